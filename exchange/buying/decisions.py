"""A sale's life after the auction: the buyer approves or rejects it within the review
window (silence approves it at the deadline), and the seller's payout is held, then
released. The money follows as for an offer's lead (DESIGN §5): reserved at sale, posted
at approval, voided at rejection, the hold released when it ends. Services flush."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from billing.plans import LeadPrice
from billing.services import approve_lead_charge, release_lead_hold, void_lead_reservation
from exchange import clock
from exchange.buying.models import Sale
from exchange.disputes.domain import OPEN
from exchange.disputes.models import Dispute
from exchange.disputes.queries import sale_return_disputed
from exchange.errors import Conflict, NotFound
from exchange.extensions import db
from exchange.verticals.models import Vertical


def price_of(sale: Sale) -> LeadPrice:
    return LeadPrice(
        lead_id=sale.lead_id,
        advertiser_id=sale.buyer_id,
        webmaster_id=sale.seller_id,
        currency=sale.currency,
        rate_minor=sale.price_minor,
        payout_minor=sale.payout_minor,
        sale_id=sale.id,
    )


def lock_sale(sale_id: int, buyer_id: int | None = None) -> Sale:
    sale = db.session.scalar(
        select(Sale).where(Sale.id == sale_id).with_for_update().execution_options(populate_existing=True)
    )
    if sale is None or (buyer_id is not None and sale.buyer_id != buyer_id):
        raise NotFound("No such sale.")
    return sale


def approve_sale(sale_id: int, buyer_id: int | None = None) -> Sale:
    """The buyer's approval (or, with no buyer, the review window's end): the charge is
    posted and the seller's payout held for the vertical's hold. Approving twice is once."""
    sale = lock_sale(sale_id, buyer_id)
    if sale.status == "approved":
        return sale
    if sale.status != "pending":
        raise Conflict(f"A {sale.status} sale cannot be approved.", code="sale_not_pending")
    approve_lead_charge(price_of(sale))
    vertical = db.session.get(Vertical, sale.vertical_id)
    sale.status, sale.approved_at = "approved", clock.now()
    sale.hold_until = sale.approved_at + timedelta(seconds=vertical.hold_seconds)
    db.session.flush()
    return sale


def reject_sale(sale_id: int, buyer_id: int, reason: str | None) -> Sale:
    """The buyer rejects a pending sale within its review window: its reservation is voided
    and its slot freed."""
    sale = lock_sale(sale_id, buyer_id)
    if sale.status == "rejected":
        return sale
    if sale.status != "pending":
        raise Conflict(f"A {sale.status} sale cannot be rejected.", code="sale_not_pending")
    if sale.review_deadline is not None and sale.review_deadline <= clock.now():
        raise Conflict("The review window has ended.", code="review_window_ended")
    void_lead_reservation(price_of(sale))
    sale.status, sale.decision_reason = "rejected", reason
    db.session.flush()
    return sale


def release_sale_hold(sale_id: int) -> bool:
    sale = lock_sale(sale_id)
    if sale.status != "approved" or sale.hold_released_at is not None or sale.hold_until > clock.now():
        return False
    if sale_return_disputed(sale.id):  # the payout stays on hold until the return is decided
        return False
    release_lead_hold(price_of(sale))
    sale.hold_released_at = clock.now()
    db.session.flush()
    return True


def due_for_approval(limit: int | None = None) -> list[int]:
    query = select(Sale.id).where(Sale.status == "pending", Sale.review_deadline <= clock.now())
    return list(db.session.scalars(query.order_by(Sale.id).limit(limit)))


def due_for_release(limit: int | None = None) -> list[int]:
    """Approved sales whose hold has ended, but for those with a return awaiting a decision."""
    disputed = select(Dispute.sale_id).where(Dispute.sale_id.is_not(None), Dispute.status.in_(OPEN))
    query = select(Sale.id).where(
        Sale.status == "approved",
        Sale.hold_released_at.is_(None),
        Sale.hold_until <= clock.now(),
        Sale.id.not_in(disputed),
    )
    return list(db.session.scalars(query.order_by(Sale.id).limit(limit)))
