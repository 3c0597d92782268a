"""Money Stripe takes back after it was credited (refunds, disputes), and the debt it
leaves when the advertiser had already spent it. Services flush; callers commit.

A take-back debits the advertiser's free balance first and books the rest on its
``debt`` account (no available balance ever goes below zero); money arriving later
pays the debt before anything else. Both read the balance they split on under the
accounts' row locks, and both are recorded once per reference: doing either again
finds its transfers already there and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from billing import ledger, plans
from billing.domain import AccountRef, advertiser_available, advertiser_debt, platform
from billing.models import Account, Transfer
from exchange.extensions import db


@dataclass(frozen=True)
class TakeBack:
    from_balance_minor: int
    as_debt_minor: int

    @property
    def amount_minor(self) -> int:
        return self.from_balance_minor + self.as_debt_minor


def take_back(advertiser_id: int, currency: str, amount_minor: int, reference: str) -> TakeBack:
    """Debit ``amount_minor`` that left through Stripe, once per ``reference``."""
    accounts = lock(advertiser_id, currency)
    done = _recorded(reference, f"{reference}:debt")
    if not done:
        free = accounts[advertiser_available(advertiser_id, currency)].balance.available
        done = ledger.record(plans.take_back(reference, advertiser_id, currency, amount_minor, free))
    from_balance = sum(row.amount_minor for row in done if row.id == reference)
    return TakeBack(from_balance, sum(row.amount_minor for row in done) - from_balance)


def open_debt(advertiser_id: int, currency: str) -> AccountRef | None:
    """The advertiser's debt account, if it was ever opened (by a take-back)."""
    debt = advertiser_debt(advertiser_id, currency)
    return debt if ledger.existing_account(debt) is not None else None


def lock(advertiser_id: int, currency: str, *, open_debt: bool = True) -> dict[AccountRef, Account]:
    """Lock, in one statement, what a take-back or a credit touches: the advertiser's
    available, ``cash_in`` and the debt account (only if it exists, unless ``open_debt``:
    an advertiser never refunded has none). Take-backs of one advertiser then run one at a time."""
    debt = advertiser_debt(advertiser_id, currency)
    refs = [advertiser_available(advertiser_id, currency), platform("cash_in", currency)]
    if open_debt or ledger.existing_account(debt) is not None:
        refs.append(debt)
    return ledger.lock_accounts(refs)


def taken_back_minor(reference: str) -> int:
    """What the take-back ``reference`` took, from the balance and as debt."""
    return sum(row.amount_minor for row in _recorded(reference, f"{reference}:debt"))


def taken_back_under_minor(advertiser_id: int, currency: str, reference_prefix: str) -> int:
    """What the advertiser's take-backs whose references start with ``reference_prefix``
    took, in all. (Looked up by the advertiser's accounts, which are indexed: a LIKE on
    the id alone would read every transfer while the accounts are locked.)"""
    codes = [
        ref.code
        for ref in (advertiser_available(advertiser_id, currency), advertiser_debt(advertiser_id, currency))
    ]
    accounts = select(Account.id).where(Account.code.in_(codes))
    pattern = reference_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    total = db.session.scalar(
        select(func.sum(Transfer.amount_minor)).where(
            Transfer.debit_account_id.in_(accounts), Transfer.id.like(pattern, escape="\\")
        )
    )
    return int(total or 0)


def repay_debt(advertiser_id: int, currency: str, reference: str) -> int:
    """Pay what the advertiser owes from its free balance, once per ``reference`` (the
    money that arrived, or came back); returns the amount repaid. The caller has locked
    the available and debt accounts already, in the statement that locked its own."""
    available, debt = advertiser_available(advertiser_id, currency), advertiser_debt(advertiser_id, currency)
    if ledger.existing_account(debt) is None:
        return 0  # never owed anything
    accounts = ledger.lock_accounts([available, debt])  # the caller locked them with its own
    done = _recorded(f"debt-repayment:{reference}")
    if not done:
        owed = -accounts[debt].balance.posted
        free = accounts[available].balance.available
        done = ledger.record(plans.debt_repayment(reference, advertiser_id, currency, owed, free))
    return sum(row.amount_minor for row in done)


def _recorded(*transfer_ids: str) -> list[Transfer]:
    return [row for row in (db.session.get(Transfer, tid) for tid in transfer_ids) if row is not None]
