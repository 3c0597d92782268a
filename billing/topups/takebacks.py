"""Stripe events that take money back after a top-up was credited: refunds and disputes.

Each handler gets the event's object and returns what it did (stored on the event).
``charge.refunded`` carries the charge's *cumulative* ``amount_refunded``: what is
debited is that total less what earlier refunds of the charge already took, so
events arriving twice, or out of order, never take more than was refunded. A
dispute takes its amount when it opens or, for an inquiry (``warning_*``), when it
escalates (``charge.dispute.funds_withdrawn``), and gives it back when it closes won
(or ``charge.dispute.funds_reinstated``); each once, in whichever order they
arrive. The money comes from the free balance first, the rest becomes debt
(``billing.topups.debts``). Each change is announced (``billing.events``): the marketplace
then tells the advertiser, its offers follow the balance that is left (paused below their
threshold), and leads that can no longer be reserved wait for funds.
"""

from __future__ import annotations

from sqlalchemy import select

from billing.events import Notice, funds_arrived, funds_taken_back
from billing.models import Transfer
from billing.services import credit_advertiser
from billing.topups import debts
from billing.topups.models import Topup
from exchange.extensions import db
from exchange.money import format_minor


def charge_refunded(charge: dict) -> str:
    topup = _topup_paid_by(charge.get("payment_intent"))
    if topup is None:
        return f"not a charge of ours: {charge.get('id')}"
    currency, refunded_in_all = charge["currency"].upper(), int(charge.get("amount_refunded") or 0)
    debts.lock(topup.advertiser_id, currency)  # one refund of one advertiser at a time
    prefix = f"refund:{charge['id']}:"
    new_minor = refunded_in_all - debts.taken_back_under_minor(topup.advertiser_id, currency, prefix)
    if new_minor <= 0:
        return f"refunds of {charge['id']} already taken back ({refunded_in_all})"
    taken = debts.take_back(topup.advertiser_id, currency, new_minor, f"{prefix}{refunded_in_all}")
    _tell(topup, "topup_refunded", f"Stripe refunded {format_minor(new_minor, currency)}", taken)
    return f"refund of {new_minor} {currency} taken back from advertiser {topup.advertiser_id}"


def dispute_created(dispute: dict) -> str:
    """A dispute takes its amount when it opens; an inquiry (``warning_*``) takes nothing
    until it escalates (``charge.dispute.funds_withdrawn``)."""
    if str(dispute.get("status", "")).startswith("warning_"):
        return f"inquiry {dispute.get('id')}: no money withdrawn"
    return funds_withdrawn(dispute)


def funds_withdrawn(dispute: dict) -> str:
    topup = _topup_paid_by(dispute.get("payment_intent"))
    if topup is None:
        return f"not a dispute of ours: {dispute.get('id')}"
    currency, amount, reference = (
        dispute["currency"].upper(),
        int(dispute["amount"]),
        f"dispute:{dispute['id']}",
    )
    debts.lock(topup.advertiser_id, currency)
    if debts.taken_back_minor(reference):
        return f"dispute {dispute['id']}: already withdrawn"
    taken = debts.take_back(topup.advertiser_id, currency, amount, reference)
    message = f"A card payment of yours is disputed: {format_minor(amount, currency)} withdrawn"
    _tell(topup, "topup_disputed", message, taken)
    return f"dispute {dispute['id']}: {amount} {currency} taken back from advertiser {topup.advertiser_id}"


def dispute_closed(dispute: dict) -> str:
    if dispute.get("status") != "won":
        return f"dispute {dispute.get('id')} closed {dispute.get('status')}: the money stays withdrawn"
    return funds_reinstated(dispute)


def funds_reinstated(dispute: dict) -> str:
    """A won dispute's amount back, once, whichever of its events arrives first: if it
    comes before the withdrawal, that is taken later and the two cancel out."""
    topup = _topup_paid_by(dispute.get("payment_intent"))
    if topup is None:
        return f"not a dispute of ours: {dispute.get('id')}"
    currency, amount = dispute["currency"].upper(), int(dispute["amount"])
    reference = f"dispute:{dispute['id']}:reinstated"
    debts.lock(topup.advertiser_id, currency)
    if db.session.get(Transfer, f"topup:{reference}") is not None:
        return f"dispute {dispute['id']}: already reinstated"
    credit_advertiser(topup.advertiser_id, currency, amount, reference)
    message = f"A dispute was decided for you: {format_minor(amount, currency)} are back."
    notice = Notice("dispute_won", message, {"currency": currency, "amount_minor": amount})
    funds_arrived(topup.advertiser_id, currency, notice)
    return f"dispute {dispute['id']} won: {amount} {currency} reinstated"


HANDLERS = {
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "charge.dispute.funds_withdrawn": funds_withdrawn,
    "charge.dispute.closed": dispute_closed,
    "charge.dispute.funds_reinstated": funds_reinstated,
}


def _tell(topup: Topup, kind: str, what: str, taken: debts.TakeBack) -> None:
    currency = topup.currency
    message = f"{what}: {format_minor(taken.from_balance_minor, currency)} from your balance"
    if taken.as_debt_minor:
        message += f", {format_minor(taken.as_debt_minor, currency)} owed (paid from your next top-up)"
    data = {
        "currency": currency,
        "from_balance_minor": taken.from_balance_minor,
        "owed_minor": taken.as_debt_minor,
    }
    funds_taken_back(topup.advertiser_id, currency, Notice(kind, message + ".", data))


def _topup_paid_by(payment_intent_id: str | None) -> Topup | None:
    if not payment_intent_id:
        return None
    return db.session.scalar(select(Topup).where(Topup.payment_intent_id == payment_intent_id))
