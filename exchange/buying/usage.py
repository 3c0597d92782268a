"""How much of its caps a buy order has used: sales and spend in the current hour, day and
month, reckoned in the buyer's time zone. Exact only while the caller holds the buy order's
row lock (``lock_buy_orders``): sales of a capped order are only made under it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from exchange import clock
from exchange.buying.domain import PERIODS, Caps, Schedule, period_starts
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.register import LIVE
from exchange.extensions import db

Used = dict[str, tuple[int, int]]  # period → (sales, spend)


def usages_of(orders: Iterable[BuyOrder]) -> dict[int, Used]:
    """The usage of each order with caps (one without has nothing to use up), reckoned in
    its schedule's time zone: one query per time zone."""
    now = clock.now()
    capped = [order for order in orders if Caps.from_stored(order.caps).any]
    by_zone: dict[str, list[int]] = {}
    for order in capped:
        by_zone.setdefault(Schedule.from_stored(order.schedule).timezone, []).append(order.id)
    used: dict[int, Used] = {order.id: dict.fromkeys(PERIODS, (0, 0)) for order in capped}
    for timezone, order_ids in by_zone.items():
        starts = period_starts(timezone, now)
        columns = []
        for period in PERIODS:
            since = Sale.created_at >= starts[period]
            columns += [
                func.count().filter(since),
                func.coalesce(func.sum(Sale.price_minor).filter(since), 0),
            ]
        rows = db.session.execute(
            select(Sale.buy_order_id, *columns)
            .where(
                Sale.buy_order_id.in_(order_ids), Sale.status.in_(LIVE), Sale.created_at >= starts["month"]
            )
            .group_by(Sale.buy_order_id)
        ).all()
        for order_id, *row in rows:
            used[order_id] = {
                period: (int(row[2 * i]), int(row[2 * i + 1])) for i, period in enumerate(PERIODS)
            }
    return used


def add_sale(used: Used, price_minor: int) -> None:
    """A sale made since ``used`` was read (in the current period of each: it is made now)."""
    for period, (sales, spend) in used.items():
        used[period] = (sales + 1, spend + price_minor)


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
