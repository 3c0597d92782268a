"""Money verbs, one per event (DESIGN §5), and what each party may read of its money.
Payouts are in ``billing.payouts``, statements in ``billing.statements``. Services flush; callers commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from billing import ledger, plans
from billing.domain import PlannedTransfer, advertiser_available, platform, webmaster_hold
from billing.models import Account, Transfer
from billing.plans import LeadPrice
from billing.topups import debts
from exchange.errors import Invalid
from exchange.extensions import db


def credit_advertiser(advertiser_id: int, currency: str, amount_minor: int, reference: str) -> Transfer:
    """Money received for an advertiser (a card top-up or an admin credit); it pays what
    the advertiser owes (``billing.topups.debts``) before it is free to spend."""
    if amount_minor <= 0:
        raise Invalid("The amount must be positive.", fields={"amount_minor": ["Must be positive."]})
    debts.lock(advertiser_id, currency, open_debt=False)  # the credit and the repayment under one lock
    credit = ledger.record(plans.topup(reference, advertiser_id, currency, amount_minor))[0]
    debts.repay_debt(advertiser_id, currency, credit.id)
    return credit


def reserve_lead_prices(prices: list[LeadPrice]) -> list[bool]:
    """Reserve each lead's price in order; a lead the balance no longer covers gets False
    (nothing written for it), and the next ones are still tried."""
    return ledger.record_each([(plans.lead_reservation(price), price.lead_id) for price in prices])


def lock_for_sales(
    advertisers: set[tuple[int, str]],
    webmasters: set[tuple[int, str]],
    *,
    giving_back: set[tuple[int, str]] = frozenset(),
) -> dict[tuple[int, str], Account]:
    """Lock, in one statement (id order), every account that reserving sales of
    ``webmasters``' leads to ``advertisers`` (each with a currency) may touch, and voiding
    those of ``giving_back``; returns each advertiser's available account. A transaction
    making several sales takes this first: reserving them one by one would lock the accounts
    sale by sale, each sale in id order but not the whole, and two such transactions can
    deadlock (the buyers ranked the other way round)."""
    available = {key: advertiser_available(*key) for key in advertisers}
    refs = list(available.values()) + [webmaster_hold(*key) for key in webmasters]
    refs += [platform("revenue", currency) for currency in {c for _, c in advertisers | webmasters}]
    refs += [debt for key in giving_back if (debt := debts.open_debt(*key)) is not None]
    accounts = ledger.lock_accounts(refs)
    return {key: accounts[ref] for key, ref in available.items()}


def approve_lead_charge(price: LeadPrice) -> None:
    ledger.record(plans.lead_approval(price), lead_id=price.lead_id)


def void_lead_reservation(price: LeadPrice) -> None:
    _give_back(price, plans.lead_release(price), "void")


def release_lead_hold(price: LeadPrice) -> None:
    ledger.record(plans.hold_release(price), lead_id=price.lead_id)


def reverse_lead_charge(price: LeadPrice) -> None:
    _give_back(price, plans.lead_return(price), "return")


def _give_back(price: LeadPrice, transfers: list[PlannedTransfer], verb: str) -> None:
    """Money coming back to the advertiser pays what it owes first, as money arriving does:
    the debt account is locked with the others (one statement), then repaid."""
    debt = debts.open_debt(price.advertiser_id, price.currency)
    if debt is not None:
        ledger.lock_accounts([ref for t in transfers for ref in (t.debit, t.credit)] + [debt])
    ledger.record(transfers, lead_id=price.lead_id)
    if debt is not None:
        debts.repay_debt(price.advertiser_id, price.currency, f"{price.reference}:{verb}")


def free_balance(advertiser_id: int, currency: str) -> int:
    """What the advertiser may still spend: its available balance less its reservations."""
    return free_balances({advertiser_id}, currency)[advertiser_id]


def free_balances(advertiser_ids: set[int], currency: str) -> dict[int, int]:
    """What each advertiser may still spend, in one query (0 for one with no account)."""
    codes = {advertiser_available(each, currency).code: each for each in advertiser_ids}
    accounts = db.session.scalars(select(Account).where(Account.code.in_(codes))) if codes else []
    found = {codes[account.code]: account.balance.available for account in accounts}
    return {each: found.get(each, 0) for each in advertiser_ids}


@dataclass(frozen=True)
class AccountView:
    purpose: str
    currency: str
    posted_minor: int
    available_minor: int
    pending_in_minor: int
    pending_out_minor: int


def balances_of(user_id: int) -> list[AccountView]:
    rows = db.session.scalars(
        select(Account).where(Account.owner_id == user_id).order_by(Account.currency, Account.purpose)
    )
    return [
        AccountView(
            purpose=row.purpose,
            currency=row.currency,
            posted_minor=row.balance.posted,
            available_minor=row.balance.available,
            pending_in_minor=row.credits_pending,
            pending_out_minor=row.debits_pending,
        )
        for row in rows
    ]


def own_side(transfer: Transfer, user_id: int) -> dict:
    """What ``user_id`` may see of a transfer it is a party to."""
    outgoing = transfer.debit_account.owner_id == user_id
    mine, other = (
        (transfer.debit_account, transfer.credit_account)
        if outgoing
        else (transfer.credit_account, transfer.debit_account)
    )
    return {
        "id": transfer.id,
        "kind": transfer.kind,
        "amount_minor": transfer.amount_minor,
        "currency": transfer.currency,
        "account": mine.purpose,
        "direction": "out" if outgoing else "in",
        "counterparty": other.owner,
        "pending_id": transfer.pending_id,
        "lead_id": transfer.lead_id,
        "payout_id": transfer.payout_id,
        "created_at": transfer.created_at,
    }


def transfers_of(user_id: int, *, limit: int, offset: int) -> tuple[list[Transfer], int]:
    account_ids = select(Account.id).where(Account.owner_id == user_id)
    where = Transfer.debit_account_id.in_(account_ids) | Transfer.credit_account_id.in_(account_ids)
    total = db.session.scalar(select(db.func.count()).select_from(Transfer).where(where))
    rows = db.session.scalars(
        select(Transfer)
        .where(where)
        .order_by(Transfer.created_at.desc(), Transfer.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
