"""Returning a sale: its buyer gives back one approved sale within the vertical's return
window, with a reason from a fixed list and its evidence; the seller concedes or contests,
and a contested return (or one not answered in time) goes to the moderators' queue. It is a
dispute of kind ``sale_return`` (exchange/disputes: answers, thread, deadlines, decisions
are theirs); this module opens it, and settles it when it is upheld: the sale's money is
reversed through the ledger, once, and its slot is free (the catalog sells it again unless
the reason condemns the lead: exchange/catalog/listing.py).

Locks, in the exchange's order: the lead, the sale, the buyer's user row (the month's
returns are counted under it, so two returns asked at once cannot both slip under the
cap), then the dispute and the ledger's accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from billing.services import reverse_lead_charge
from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.buying.decisions import lock_sale, price_of
from exchange.buying.models import Sale
from exchange.disputes import domain
from exchange.disputes.models import Dispute
from exchange.disputes.services import start_dispute
from exchange.disputes.subjects import Subject, register
from exchange.errors import Conflict, Forbidden, Invalid, NotFound
from exchange.extensions import db
from exchange.leads.validation import lock_lead
from exchange.verticals.models import Vertical

PURCHASES = ("pending", "approved", "returned")  # what a buyer bought (not rejected nor voided)


def open_sale_return(user: User, actor: Actor, sale_id: int, reason: str, evidence: str) -> Dispute:
    """The buyer asks to return an approved sale; the seller is asked to answer."""
    if user.role != "advertiser":
        raise Forbidden("Only a sale's buyer can return it.", code="wrong_role")
    found = db.session.get(Sale, sale_id)
    if found is None or found.buyer_id != user.id:
        raise NotFound("No such sale.")
    if reason not in domain.SALE_RETURN_REASONS:
        allowed = ", ".join(domain.SALE_RETURN_REASONS)
        raise Invalid(
            "The reason is not one of the list.", fields={"reason": [f"Must be one of: {allowed}."]}
        )
    lead = lock_lead(found.lead_id)
    sale = lock_sale(sale_id, user.id)
    earlier = db.session.scalar(select(Dispute.id).where(Dispute.sale_id == sale.id))
    if earlier is not None:
        raise Conflict(f"This sale already has return {earlier}.", code="dispute_exists")
    if sale.status != "approved":
        hint = " Reject it within its review window instead." if sale.status == "pending" else ""
        raise Conflict(
            f"Only an approved sale can be returned; this one is {sale.status}.{hint}",
            code="sale_not_approved",
        )
    vertical = db.session.get(Vertical, sale.vertical_id)
    now = clock.now()
    closes_at = return_deadline(sale, vertical)
    if sale.hold_released_at is not None or now >= closes_at:
        raise Conflict(
            f"The return window of this sale closed at {closes_at:%Y-%m-%d %H:%M} UTC.",
            code="return_window_closed",
        )
    _check_cap(user, sale, vertical)
    return start_dispute(
        domain.SALE_RETURN,
        lead,
        user,
        reason,
        evidence,
        answer_seconds=current_app.config["SALE_RETURN_ANSWER_SECONDS"],
        parties=(sale.buyer_id, sale.seller_id),
        sale_id=sale.id,
    )


def return_deadline(sale: Sale, vertical: Vertical) -> datetime:
    """The vertical's return window from the sale's approval, never past its seller's hold
    (fixed at approval: a hold shortened since does not stretch it, a window widened since
    does not pass it)."""
    closes_at = sale.approved_at + timedelta(seconds=vertical.return_window_seconds)
    return min(closes_at, sale.hold_until) if sale.hold_until is not None else closes_at


ReturnState = tuple[datetime | None, int | None]


def return_states(sales: list[Sale]) -> dict[int, ReturnState]:
    """Each sale's return state, read at once (a page of sales: one query, not one a row):
    until when it may be returned (an approved sale with no return asked; else None), and
    the return asked of it, if any."""
    if not sales:
        return {}
    asked = dict(
        db.session.execute(
            select(Dispute.sale_id, Dispute.id).where(Dispute.sale_id.in_([sale.id for sale in sales]))
        ).all()
    )
    states: dict[int, ReturnState] = {}
    for sale in sales:
        returnable = sale.status == "approved" and sale.hold_released_at is None and sale.id not in asked
        until = return_deadline(sale, db.session.get(Vertical, sale.vertical_id)) if returnable else None
        states[sale.id] = (until, asked.get(sale.id))
    return states


def _check_cap(user: User, sale: Sale, vertical: Vertical) -> None:
    """The buyer's returns of the sale's month's purchases on its vertical, this one
    included, within the vertical's cap; counted under the buyer's row lock."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    start, end = domain.month_span(sale.created_at)
    bought_that_month = (
        Sale.buyer_id == user.id,
        Sale.vertical_id == vertical.id,
        Sale.created_at >= start,
        Sale.created_at < end,
    )
    purchases = db.session.scalar(
        select(func.count()).select_from(Sale).where(*bought_that_month, Sale.status.in_(PURCHASES))
    )
    returns = db.session.scalar(
        select(func.count())
        .select_from(Dispute)
        .join(Sale, Sale.id == Dispute.sale_id)
        .where(*bought_that_month, counts_against_cap())
    )
    if not domain.within_return_cap(returns, purchases, vertical.return_cap_percent):
        raise Conflict(
            f"Returns of {start:%B %Y}'s purchases on {vertical.name} are capped at "
            f"{vertical.return_cap_percent} % of them: {returns} of {purchases} asked already.",
            code="return_cap_reached",
        )


def counts_against_cap():
    """A return counts while open, and once upheld; withdrawn or refused, it does not."""
    return (Dispute.kind == domain.SALE_RETURN) & (
        Dispute.status.in_(domain.OPEN)
        | ((Dispute.status == domain.RESOLVED) & (Dispute.outcome == domain.UPHELD))
    )


def return_sale(dispute: Dispute, actor: Actor, note: str) -> None:
    """An upheld return: the sale's charge reversed (the payout still held comes back from the
    seller, the margin from the platform), once. The caller holds the lead's and the
    dispute's locks and decides in this transaction."""
    sale = lock_sale(dispute.sale_id)
    if sale.status == "returned":
        return
    if sale.status != "approved" or sale.hold_released_at is not None:
        raise Conflict(
            f"Sale {sale.id} is {sale.status} and cannot be returned now.", code="sale_not_returnable"
        )
    reverse_lead_charge(price_of(sale))
    sale.status, sale.decision_reason = "returned", note[:500]
    db.session.flush()


def sale_evidence(dispute: Dispute) -> dict[str, Any]:
    """What the moderators read of the sale: prices, status, times, its post to the buyer."""
    sale = db.session.get(Sale, dispute.sale_id)
    vertical = db.session.get(Vertical, sale.vertical_id)
    facts = (
        "id",
        "status",
        "exclusive",
        "currency",
        "price_minor",
        "payout_minor",
        "post_status",
        "post_error",
    )
    times = ("created_at", "approved_at", "hold_until")
    return (
        {name: getattr(sale, name) for name in facts}
        | {name: clock.isoformat(getattr(sale, name)) if getattr(sale, name) else None for name in times}
        | {"vertical_name": vertical.name, "from_catalog": sale.auction_id is None}
    )


def register_sale_returns(app: Flask) -> None:
    """Called as the app is created: the disputes module settles sale returns with these."""
    register(app, domain.SALE_RETURN, Subject(settle=return_sale, evidence=sale_evidence))
