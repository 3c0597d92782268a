"""How much of its caps a buy order has used: sales and spend in the current hour, day and
month, reckoned in the buyer's time zone. Exact only while the caller holds the buy order's
row lock (``lock_buy_orders``): sales of a capped order are only made under it."""

from __future__ import annotations

from sqlalchemy import func, select

from exchange import clock
from exchange.buying.domain import PERIODS, Caps, period_starts
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.register import LIVE
from exchange.extensions import db


def usage_of(order: BuyOrder, timezone: str) -> dict[str, tuple[int, int]]:
    starts = period_starts(timezone, clock.now())
    columns = []
    for period in PERIODS:
        since = Sale.created_at >= starts[period]
        columns += [func.count().filter(since), func.coalesce(func.sum(Sale.price_minor).filter(since), 0)]
    row = db.session.execute(
        select(*columns).where(
            Sale.buy_order_id == order.id, Sale.status.in_(LIVE), Sale.created_at >= starts["month"]
        )
    ).one()
    return {period: (int(row[2 * i]), int(row[2 * i + 1])) for i, period in enumerate(PERIODS)}


def lock_buy_orders(order_ids: list[int]) -> dict[int, BuyOrder]:
    """The orders, those with caps locked, in id order: a cap is only exact under its order's
    lock, and an order without one has nothing for two sales to race on (its buyer's balance
    is the ledger's, under the account's lock), so auctions selling to it do not take turns.

    FOR NO KEY UPDATE, not FOR UPDATE: it still excludes another sale's lock, but not the
    key-share lock that inserting a row referring to the order (an auction's bid, a sale)
    takes, so an auction writing its bids never waits for another auction's sales, nor the
    other way round (a deadlock when both do both)."""
    orders = {row.id: row for row in db.session.scalars(select(BuyOrder).where(BuyOrder.id.in_(order_ids)))}
    capped = sorted(order_id for order_id, order in orders.items() if Caps.from_stored(order.caps).any)
    if capped:
        locked = db.session.scalars(
            select(BuyOrder)
            .where(BuyOrder.id.in_(capped))
            .order_by(BuyOrder.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        orders.update((row.id, row) for row in locked)
    return orders
