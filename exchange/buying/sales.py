"""Reading sales, as each party may: the buyer its purchases with the full lead, the
seller its leads' sales with its payout (never the buyer nor the price), staff all."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.verticals.models import Vertical

SELLER_HIDDEN = ("price_minor", "buy_order_id", "buyer_id", "auction_id")


def sales_of(user: User) -> Select:
    query = select(Sale)
    if user.role == "advertiser":
        return query.where(Sale.buyer_id == user.id)
    if user.role == "webmaster":
        return query.where(Sale.seller_id == user.id)
    return query


def filtered_sales(user: User, args: dict) -> Select:
    """The user's sales that ``GET /api/v1/sales``'s filters keep (its CSV's also ``since``
    and ``until``, on when the sale was made); unordered."""
    query = sales_of(user)
    if args.get("status"):
        query = query.where(Sale.status == args["status"])
    if args.get("vertical_id"):
        query = query.where(Sale.vertical_id == args["vertical_id"])
    if args.get("since"):
        query = query.where(Sale.created_at >= args["since"])
    if args.get("until"):
        query = query.where(Sale.created_at < args["until"])
    return query


def sale_of(user: User, sale_id: int) -> Sale:
    sale = db.session.scalar(sales_of(user).where(Sale.id == sale_id))
    if sale is None:
        raise NotFound("No such sale.")
    return sale


def lead_for_buyer(sale: Sale) -> dict:
    """What a buyer bought: the lead whole (a voided or rejected sale shows nothing)."""
    if sale.status not in ("pending", "approved"):
        return {}
    lead = db.session.get(Lead, sale.lead_id)
    return {
        "fields": lead.fields,
        "country": lead.country,
        "score": lead.score,
        "temperature": lead.temperature,
    }


def sold_of_text(sale: Sale, vertical: Vertical) -> str:
    """ "sold N of M": the live sales of the lead's consumer's slots, of the vertical's slots."""
    keys = [
        column == value
        for column, value in ((Sale.phone_hash, sale.phone_hash), (Sale.email_hash, sale.email_hash))
        if value
    ]
    count = (
        db.session.scalar(
            select(func.count())
            .select_from(Sale)
            .where(Sale.vertical_id == vertical.id, Sale.status.in_(LIVE), or_(*keys))
        )
        if keys
        else 1
    )
    return f"sold {count} of {vertical.slots}"
