"""Buying leads from the catalog: one slot, or every slot (exclusive), at its price now; one
lead, a selection, or the next N that match a search, each as one order.

An order is placed (a row), then filled in turns. Whoever holds the till (a transaction
advisory lock on PostgreSQL, tried in the statement that places the order; a lock of the
process on SQLite) fills every order waiting then, its own among them, in one transaction
(``till.Till``: one set of locks, one commit), and announces them as it commits
(``doorbell``). The other requests, their orders committed, wait for their bell: it rings
when their order was done, or when one of them is to try the till for the orders placed
meanwhile. So twenty buyers pressing buy at once cost about one transaction, not twenty,
nobody queues behind anybody to learn what became of its order, and nothing changes for a
buyer: its answer is its sales, or its refusal, as if it had been alone, and an order is
checked against the orders filled before it exactly as against earlier purchases.

What can go wrong stays with the order it belongs to. A batch that fails (an error, not a
refusal) is rolled back, and each request then fills its own order alone. A request that
has waited ``WAIT_SECONDS`` withdraws its order (503, nothing bought) unless it was filled
meanwhile, and an order left waiting longer than that (its request gone) is refused as
``expired``, never filled for a buyer no longer there. The orders, the sales and the
listings are read and written with Core statements: the till's hold is what the buyers
wait for, and a unit of work was most of it.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import Row, bindparam, func, insert, select, text, update

from exchange import clock
from exchange.buying.models import Sale
from exchange.catalog.doorbell import POLL_SECONDS, Bell, announce, doorbell
from exchange.catalog.models import CatalogOrder
from exchange.catalog.till import MAX_BASKET, Order, Purchase, Refused, Till
from exchange.db import commit, rollback, update_each
from exchange.errors import AppError, NotFound, Unavailable
from exchange.extensions import db

__all__ = ["MAX_BASKET", "Purchase", "Refused", "buy", "buy_all", "buy_first"]

TILL_LOCK = 7_180_018  # the advisory lock's key
WAIT_SECONDS = 10.0
BATCH = 50  # orders filled in one transaction at most
_PROCESS_TILL = threading.Lock()  # SQLite: one process writes

ORDERS = CatalogOrder.__table__
PLACE = insert(ORDERS).returning(ORDERS.c.id)
PLACE_AND_TRY = PLACE.returning(func.pg_try_advisory_xact_lock(TILL_LOCK))
# A turn on PostgreSQL, in one statement: the order as it stands and, if it is still
# waiting, the till if it is free (a transaction lock: its holder lets go when it commits).
TAKE_TURN = text(
    "SELECT status, sale_ids, refusal, status = 'waiting' AND pg_try_advisory_xact_lock(:till) "
    "FROM catalog_orders WHERE id = :id"
).columns(sale_ids=ORDERS.c.sale_ids.type, refusal=ORDERS.c.refusal.type)
OUTCOME = select(ORDERS.c.status, ORDERS.c.sale_ids, ORDERS.c.refusal).where(ORDERS.c.id == bindparam("id"))
SALES = select(Sale).where(Sale.id.in_(bindparam("ids", expanding=True)))
WAITING = (
    select(ORDERS.c.id, ORDERS.c.buyer_id, ORDERS.c.purchases, ORDERS.c.first, ORDERS.c.placed_at)
    .where(ORDERS.c.status == "waiting")
    .order_by(ORDERS.c.id)
    .limit(BATCH)
    .with_for_update(skip_locked=True)
)
DONE = update_each(ORDERS, "id", ("status", "sale_ids", "refusal", "done_at"))


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
    until it is done, and answer as it was filled: its sales, or its refusal raised. On
    PostgreSQL the order is placed with a try at the till: if it is free, the orders
    waiting, this one among them, are filled in the transaction that placed it."""
    order_id, holds_till = _place(order, try_till=True)
    with _expecting(order_id) as rung:
        done = _fill_from(order_id, placed=order) if holds_till else None
        if done is None:
            commit()
            done = _wait_for(order_id, rung)
    if done.status == "filled":
        sales = {sale.id: sale for sale in db.session.scalars(SALES, {"ids": done.sale_ids or []})}
        return [sales[sale_id] for sale_id in done.sale_ids or []]
    raise _refusal_of(done.refusal or {})


def _place(order: Order, *, try_till: bool) -> tuple[int, bool]:
    """The order's row (not committed) and, trying the till on PostgreSQL, whether it was
    free (it is held from then on)."""
    values = {
        "buyer_id": order.buyer_id,
        "purchases": [asdict(wanted) for wanted in order.purchases],
        "first": order.first,
    }
    if not (try_till and _on_postgresql()):
        return db.session.connection().execute(PLACE, values).scalar_one(), False
    order_id, holds_till = db.session.connection().execute(PLACE_AND_TRY, values).one()
    return order_id, holds_till


def _expecting(order_id: int) -> AbstractContextManager[Bell | None]:
    """The order's doorbell on PostgreSQL (rung when it is done, or when its request is
    to try the till); none on SQLite, where the requests queue for the process's till."""
    return doorbell().expecting(order_id) if _on_postgresql() else nullcontext()


def _wait_for(order_id: int, rung: Bell | None) -> _Outcome:
    """The order once it is done; withdrawn, and 503, if it is still waiting after
    ``WAIT_SECONDS``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if rung is not None:  # (the till was just tried: placing the order tried it)
            rung.wait(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
            if rung.sale_ids is not None:  # filled, as announced with the holder's commit
                return _Outcome("filled", rung.sale_ids, None)
            rung.clear()  # a ring from now on is for the turn below
        if (done := _turn(order_id, deadline)) is not None:
            return done
        if time.monotonic() >= deadline and _withdraw(order_id):
            raise Unavailable("The catalog is busy: nothing was bought. Try again.", code="busy")


def _turn(order_id: int, deadline: float) -> _Outcome | None:
    """One turn: the order if it is done, else None. On PostgreSQL the order as it stands
    and, if it is waiting and the till is free, the till: its request fills every order
    waiting then, its own among them. On SQLite the requests queue for the process's till
    until the deadline."""
    if not _on_postgresql():
        return _turn_in_process(order_id, deadline)
    status, sale_ids, refusal, holds_till = (
        db.session.connection().execute(TAKE_TURN, {"id": order_id, "till": TILL_LOCK}).one()
    )
    if holds_till:
        return _fill_from(order_id)
    # Nothing is held: the transaction goes on, to read the order's sales or to look again
    # (each statement sees what was committed before it).
    return _Outcome(status, sale_ids, refusal) if status != "waiting" else None


def _turn_in_process(order_id: int, deadline: float) -> _Outcome | None:
    if not _PROCESS_TILL.acquire(timeout=max(deadline - time.monotonic(), 0)):
        return None
    try:
        if (outcome := _outcome(order_id)).status == "waiting":
            return _fill_from(order_id)
        rollback()
        return outcome
    finally:
        _PROCESS_TILL.release()


def _fill_from(order_id: int, placed: Order | None = None) -> _Outcome | None:
    """Holding the till: fill the waiting orders and commit (which lets go of the till on
    PostgreSQL), or, if the batch fails, this order alone (``placed``: it was placed in the
    batch's transaction, and placed again after the rollback); the order if it is done."""
    try:
        done = fill_waiting()
        commit()
    except Exception:
        rollback()
        if placed is not None:
            order_id = _place(placed, try_till=False)[0]
            commit()
        done = _fill_alone(order_id)
    if order_id in done:  # (this request's order was in the batch: its outcome is known)
        return _Outcome(**done[order_id])
    outcome = _outcome(order_id)
    return outcome if outcome.status != "waiting" else None


def fill_waiting(only: int | None = None) -> dict[int, dict]:
    """Fill the orders waiting (the oldest ``BATCH``; ``only``: that one) in this
    transaction: each filled or refused as it would be alone, after the ones before it.
    Returns each order's outcome (status, sale ids, refusal)."""
    query = WAITING if only is None else WAITING.where(ORDERS.c.id == only)
    rows = db.session.connection().execute(query).all()
    if not rows:
        return {}
    now = clock.now()
    cutoff = now - timedelta(seconds=WAIT_SECONDS)
    expired = _refused(Refused("Its buyer stopped waiting for it.", code="expired"))
    done = {row.id: expired for row in rows if row.placed_at < cutoff}
    if live := [row for row in rows if row.id not in done]:
        done.update(_fill(live))
    outcomes = [
        {"key": order_id, "new_done_at": now, **{f"new_{name}": value for name, value in outcome.items()}}
        for order_id, outcome in done.items()
    ]
    db.session.connection().execute(DONE, outcomes)
    if _on_postgresql():  # with the commit: their requests wake
        announce({order_id: outcome["sale_ids"] for order_id, outcome in done.items()})
    return done


def _fill(rows: list[Row]) -> dict[int, dict]:
    """Each order's outcome (the columns of ``DONE``)."""
    orders = [_order_of(row) for row in rows]
    till = Till.open(orders)
    done, filled = {}, {}
    for row, order in zip(rows, orders, strict=True):
        try:
            filled[row.id] = till.fill(order)
        except AppError as refusal:
            done[row.id] = _refused(refusal)
    till.close()
    for order_id, sales in filled.items():
        done[order_id] = {"status": "filled", "sale_ids": [sale.id for sale in sales], "refusal": None}
    return done


def _fill_alone(order_id: int) -> dict[int, dict]:
    """After a batch failed: this order alone (the till only batches orders: the rows'
    locks are what keep a purchase right, and an order's own row that it is filled once);
    if that fails too, the order is withdrawn (nothing bought) and the error raised."""
    try:
        done = fill_waiting(only=order_id)
        commit()
        return done
    except Exception:
        rollback()
        _withdraw(order_id)
        raise


def _order_of(row: Row) -> Order:
    return Order(row.buyer_id, tuple(Purchase(**wanted) for wanted in row.purchases), row.first)


def _refused(refusal: AppError) -> dict:
    return {
        "status": "refused",
        "sale_ids": None,
        "refusal": {
            "status": refusal.status,
            "code": refusal.code,
            "message": refusal.message,
            "fields": refusal.fields,
        },
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
