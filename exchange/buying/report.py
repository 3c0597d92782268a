"""The exchange's sales report: counts and money of live sales grouped by vertical, buyer,
seller, country, temperature or day, each party reading its own side (a buyer its spend,
a seller its earnings, staff everything with the platform's margin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.extensions import db
from exchange.leads.models import Lead

GROUPS = {
    "vertical": Sale.vertical_id,
    "buyer": Sale.buyer_id,
    "seller": Sale.seller_id,
    "country": Lead.country,
    "temperature": Lead.temperature,
    "day": func.date(Sale.created_at),
}
STAFF_ONLY = ("buyer", "seller")  # a buyer never learns its sellers, nor a seller its buyers


def sales_report(user: User, group_by: str, since: datetime | None, until: datetime | None) -> list[dict]:
    key = GROUPS[group_by]
    query = (
        select(
            key.label("key"),
            Sale.currency,
            func.count().label("sales"),
            func.sum(Sale.price_minor).label("price"),
            func.sum(Sale.payout_minor).label("payout"),
        )
        .join(Lead, Lead.id == Sale.lead_id)
        .where(Sale.status.in_(LIVE))
        .group_by(key, Sale.currency)
        .order_by(key, Sale.currency)
    )
    if user.role == "advertiser":
        query = query.where(Sale.buyer_id == user.id)
    elif user.role == "webmaster":
        query = query.where(Sale.seller_id == user.id)
    if since is not None:
        query = query.where(Sale.created_at >= since)
    if until is not None:
        query = query.where(Sale.created_at < until)
    rows = []
    for row in db.session.execute(query):
        line = {
            "key": None if row.key is None else str(row.key),
            "currency": row.currency,
            "sales": row.sales,
        }
        if user.role == "advertiser":
            line["spend_minor"] = int(row.price)
        elif user.role == "webmaster":
            line["earned_minor"] = int(row.payout)
        else:
            line |= {"revenue_minor": int(row.price), "payout_minor": int(row.payout)}
            line["margin_minor"] = line["revenue_minor"] - line["payout_minor"]
        rows.append(line)
    return rows
