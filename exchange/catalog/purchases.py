"""Buying leads from the catalog: one slot, or every slot (exclusive), at its price now; one
lead, a selection, or the next N that match a search, each as one order.

An order is placed (a row, committed), then filled in turns. The requests queue for the
till (a transaction-level advisory lock on PostgreSQL, a lock of the process on SQLite);
each, once it holds it, finds its order filled by the request before it and lets go, or
fills every order waiting then, its own among them, in one transaction (``till.Till``: one
set of locks, one commit). So twenty buyers pressing buy at once cost about one
transaction, not twenty, and nothing changes for a buyer: its answer is its sales, or its
refusal, as if it had been alone, and an order is checked against the orders filled before
it exactly as against earlier purchases.

What can go wrong stays with the order it belongs to. A batch that fails (an error, not a
refusal) is rolled back, and each request then fills its own order alone. A request that
has waited ``WAIT_SECONDS`` withdraws its order (503, nothing bought) unless it was filled
meanwhile, and an order left waiting longer than that (its request gone) is refused as
``expired``, never filled for a buyer no longer there.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import OperationalError

from exchange import clock
from exchange.buying.models import Sale
from exchange.catalog.models import CatalogOrder
from exchange.catalog.till import MAX_BASKET, Order, Purchase, Refused, Till
from exchange.db import commit, rollback, rows_by_id
from exchange.errors import AppError, NotFound, Unavailable
from exchange.extensions import db

__all__ = ["MAX_BASKET", "Purchase", "Refused", "buy", "buy_all", "buy_first"]

TILL_LOCK = 7_180_018  # the advisory lock's key
WAIT_SECONDS = 10.0
BATCH = 50  # orders filled in one transaction at most
_PROCESS_TILL = threading.Lock()  # SQLite: one process writes
OUTCOME = select(CatalogOrder.status, CatalogOrder.sale_ids, CatalogOrder.refusal).where(
    CatalogOrder.id == bindparam("id")
)
# Taking the till: its advisory lock, given up after the wait; lock_timeout is set for the
# wait only (a select list is evaluated in its order), then put back as it was (read first:
# a MATERIALIZED CTE is not folded into the select list), so that the filling which follows
# does not inherit what was left of the wait.
TAKE_TILL = text(
    "WITH before AS MATERIALIZED (SELECT current_setting('lock_timeout') AS value) "
    "SELECT set_config('lock_timeout', :timeout, true), pg_advisory_xact_lock(:key), "
    "set_config('lock_timeout', before.value, true) FROM before"
)


def buy(buyer_id: int, wanted: Purchase) -> Sale:
    """One lead's sale, reserved; 404 for a lead not in the catalog, 409 (with a code) when
    it cannot be bought now: sold out, gone, already yours, a new price, not enough money."""
    return buy_all(buyer_id, [wanted])[0]


def buy_all(buyer_id: int, basket: list[Purchase]) -> list[Sale]:
    """Every purchase of the basket, or none: the first that cannot be made is the 409 (its
    lead named at ``lead_ids``), and nothing is bought."""
    return _place_and_wait(Order(buyer_id, tuple(basket)))


def buy_first(buyer_id: int, candidates: list[Purchase], count: int) -> list[Sale]:
    """Up to ``count`` of the ``candidates`` (in the order wanted), passing by those that
    cannot be bought now, or not at the price expected: "the next N that match"."""
    return _place_and_wait(Order(buyer_id, tuple(candidates), first=count))


@dataclass(frozen=True)
class _Outcome:
    """An order as its request reads it."""

    status: str
    sale_ids: list[int] | None
    refusal: dict | None


def _place_and_wait(order: Order) -> list[Sale]:
    """Place the order (committing what the caller did before), take turns at the till
    until it is done, and answer as it was filled: its sales, or its refusal raised."""
    order_id = db.session.scalar(
        insert(CatalogOrder)
        .values(
            buyer_id=order.buyer_id,
            purchases=[asdict(wanted) for wanted in order.purchases],
            first=order.first,
        )
        .returning(CatalogOrder.id)
    )
    commit()
    deadline = time.monotonic() + WAIT_SECONDS
    while (done := _turn(order_id, deadline)) is None:
        if time.monotonic() >= deadline and _withdraw(order_id):
            raise Unavailable("The catalog is busy: nothing was bought. Try again.", code="busy")
    if done.status == "filled":
        sales = rows_by_id(Sale, done.sale_ids or [])
        return [sales[sale_id] for sale_id in done.sale_ids or []]
    raise _refusal_of(done.refusal or {})


def _turn(order_id: int, deadline: float) -> _Outcome | None:
    """One turn at the till: the order once it is done. The requests queue for the till;
    each, once it holds it, finds its order filled by the one before (and lets go at once)
    or fills every order waiting, its own among them."""
    if not _take_till(deadline - time.monotonic()):
        return None
    outcome = _outcome(order_id)  # read under the till: no filler is half-way
    if outcome.status != "waiting":
        rollback()
        _leave_till()
        return outcome
    try:
        fill_waiting()
        commit()
    except Exception:
        rollback()  # (PostgreSQL: the till is free again)
        _fill_alone(order_id)
    finally:
        _leave_till()
    outcome = _outcome(order_id)
    return outcome if outcome.status != "waiting" else None


def fill_waiting(only: int | None = None) -> None:
    """Fill the orders waiting (the oldest ``BATCH``; ``only``: that one) in this
    transaction: each filled or refused as it would be alone, after the ones before it."""
    query = select(CatalogOrder).where(CatalogOrder.status == "waiting")
    if only is not None:
        query = query.where(CatalogOrder.id == only)
    rows = db.session.scalars(
        query.order_by(CatalogOrder.id).limit(BATCH).with_for_update(skip_locked=True)
    ).all()
    now = clock.now()
    live = [row for row in rows if row.placed_at >= now - timedelta(seconds=WAIT_SECONDS)]
    for row in rows:
        if row not in live:
            _refuse(row, Refused("Its buyer stopped waiting for it.", code="expired"), now)
    if not live:
        return
    orders = [_order_of(row) for row in live]
    till = Till.open(orders)
    filled = []
    for row, order in zip(live, orders, strict=True):
        try:
            filled.append((row, till.fill(order)))
        except AppError as refusal:
            _refuse(row, refusal, now)
    till.close()
    for row, sales in filled:
        row.status, row.sale_ids, row.done_at = "filled", [sale.id for sale in sales], now


def _fill_alone(order_id: int) -> None:
    """After a batch failed: this order alone (the till only batches orders: the rows'
    locks are what keep a purchase right, and an order's own row that it is filled once);
    if that fails too, the order is withdrawn (nothing bought) and the error raised."""
    try:
        fill_waiting(only=order_id)
        commit()
    except Exception:
        rollback()
        _withdraw(order_id)
        raise


def _order_of(row: CatalogOrder) -> Order:
    return Order(row.buyer_id, tuple(Purchase(**wanted) for wanted in row.purchases), row.first)


def _refuse(row: CatalogOrder, refusal: AppError, now: datetime) -> None:
    row.status, row.done_at = "refused", now
    row.refusal = {
        "status": refusal.status,
        "code": refusal.code,
        "message": refusal.message,
        "fields": refusal.fields,
    }


def _refusal_of(refusal: dict) -> AppError:
    kind = NotFound if refusal.get("status") == NotFound.status else Refused
    return kind(refusal.get("message", ""), code=refusal.get("code"), fields=refusal.get("fields"))


def _withdraw(order_id: int) -> bool:
    """The order withdrawn if it is still waiting (committed); False if it was done."""
    withdrawn = db.session.execute(
        update(CatalogOrder)
        .where(CatalogOrder.id == order_id, CatalogOrder.status == "waiting")
        .values(status="withdrawn", done_at=clock.now())
    ).rowcount
    commit()
    return withdrawn == 1


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _outcome(order_id: int) -> _Outcome:
    return _Outcome(*db.session.connection().execute(OUTCOME, {"id": order_id}).one())


def _take_till(seconds: float) -> bool:
    """The till, once the request before has let go of it, within ``seconds``: until this
    transaction ends on PostgreSQL (a transaction advisory lock, whose waiters queue), until
    ``_leave_till`` on SQLite. False if the wait ran out (nothing held)."""
    if _on_postgresql():
        milliseconds = str(max(int(seconds * 1000), 1))
        try:
            db.session.execute(TAKE_TILL, {"key": TILL_LOCK, "timeout": milliseconds})
        except OperationalError:  # lock_timeout
            rollback()
            return False
        return True
    return _PROCESS_TILL.acquire(timeout=max(seconds, 0))


def _leave_till() -> None:
    if not _on_postgresql():
        _PROCESS_TILL.release()
