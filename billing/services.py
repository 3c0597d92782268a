"""Money verbs, one per event (DESIGN §5). Services flush; callers commit."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from billing import debts, ledger, plans
from billing.domain import InsufficientFunds
from billing.models import Account, Payout, Transfer
from billing.plans import LeadPrice
from exchange import clock
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db


def credit_advertiser(advertiser_id: int, currency: str, amount_minor: int, reference: str) -> Transfer:
    """Money received for an advertiser (a card top-up or an admin credit); it pays what
    the advertiser owes (``billing.debts``) before it is free to spend."""
    if amount_minor <= 0:
        raise Invalid("The amount must be positive.", fields={"amount_minor": ["Must be positive."]})
    debts.lock(advertiser_id, currency)  # the credit and the repayment under the same locks
    credit = ledger.record(plans.topup(reference, advertiser_id, currency, amount_minor))[0]
    debts.repay_debt(advertiser_id, currency, credit.id)
    return credit


def reserve_lead_prices(prices: list[LeadPrice]) -> list[bool]:
    """Reserve each lead's price in order; a lead the balance no longer covers gets False
    (nothing written for it), and the next ones are still tried."""
    return ledger.record_each([(plans.lead_reservation(price), price.lead_id) for price in prices])


def approve_lead_charge(price: LeadPrice) -> None:
    ledger.record(plans.lead_approval(price), lead_id=price.lead_id)


def void_lead_reservation(price: LeadPrice) -> None:
    ledger.record(plans.lead_release(price), lead_id=price.lead_id)


def release_lead_hold(price: LeadPrice) -> None:
    ledger.record(plans.hold_release(price), lead_id=price.lead_id)


def reverse_lead_charge(price: LeadPrice) -> None:
    ledger.record(plans.lead_return(price), lead_id=price.lead_id)


def payout_minimum(currency: str) -> int:
    minimums = current_app.config["PAYOUT_MINIMUM_MINOR"]
    return int(minimums.get(currency, minimums["default"]))


def request_payout(webmaster_id: int, currency: str, amount_minor: int) -> Payout:
    minimum = payout_minimum(currency)
    if amount_minor < minimum:
        raise Invalid(
            f"The smallest payout in {currency} is {minimum} minor units.",
            code="below_minimum",
            fields={"amount_minor": [f"At least {minimum}."]},
        )
    try:
        with db.session.begin_nested():  # the payout and its transfer, or neither
            payout = Payout(webmaster_id=webmaster_id, currency=currency, amount_minor=amount_minor)
            db.session.add(payout)
            db.session.flush()
            ledger.record(
                [plans.payout_request(payout.id, webmaster_id, currency, amount_minor)],
                payout_id=payout.id,
            )
    except InsufficientFunds:
        raise Invalid(
            "Your available balance does not cover this payout.",
            code="insufficient_funds",
            fields={"amount_minor": ["More than your available balance."]},
        ) from None
    return payout


def settle_payout(payout_id: int, *, paid: bool, settled_by_id: int | None, note: str = "") -> Payout:
    """Mark a payout paid (post its transfer) or failed (void it), once."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("No such payout.")
    status = "paid" if paid else "failed"
    moved = db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == "requested")
        .values(status=status, settled_at=clock.now(), settled_by_id=settled_by_id, note=note or None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(payout)
    if not moved:
        if payout.status == status:
            return payout
        raise Conflict(f"The payout is already {payout.status}.", code="payout_settled")
    pending = ledger.find(f"payout:{payout.id}")
    ledger.record([plans.payout_settlement(pending, paid=paid)], payout_id=payout.id)
    return payout


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
