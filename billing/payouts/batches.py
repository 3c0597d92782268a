"""Manual payout batches: requested manual-rail payouts of one currency gathered for the
finance team, who pay them outside the platform from a CSV; an admin then marks them
paid or failed (each through ``settle_payout``, so each once). Services flush; callers
commit."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select, update

from billing import ledger
from billing.domain import platform, webmaster_available
from billing.payouts.domain import MANUAL, major_units
from billing.payouts.models import Payout, PayoutBatch
from billing.payouts.services import FAILED, PAID, REQUESTED, settle_payout
from exchange import clock
from exchange.accounts.models import User
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db

CSV_HEADER = ["payout_id", "webmaster_id", "email", "name", "amount", "currency", "requested_at"]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class BatchView:
    id: int
    currency: str
    created_at: object
    payout_ids: list[int]
    total_minor: int
    statuses: dict[str, int]


@dataclass
class BatchSettlement:
    batch_id: int
    outcome: str
    settled: list[int] = field(default_factory=list)  # changed by this call
    unchanged: list[int] = field(default_factory=list)  # already had this outcome


def create_batch(currency: str, created_by_id: int | None) -> PayoutBatch:
    """Gather every requested manual payout of ``currency`` not in a batch yet. Two
    admins at once get disjoint batches (the conditional update takes each payout once)."""
    batch = PayoutBatch(currency=currency, created_at=clock.now(), created_by_id=created_by_id)
    db.session.add(batch)
    db.session.flush()
    gathered = db.session.execute(
        update(Payout)
        .where(
            Payout.status == REQUESTED,
            Payout.rail == MANUAL,
            Payout.currency == currency,
            Payout.batch_id.is_(None),
        )
        .values(batch_id=batch.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not gathered:
        raise Conflict(f"No requested manual payouts in {currency} to batch.", code="nothing_to_batch")
    return batch


def batch_view(batch_id: int) -> BatchView:
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound("No such payout batch.")
    rows = db.session.execute(
        select(Payout.id, Payout.amount_minor, Payout.status)
        .where(Payout.batch_id == batch_id)
        .order_by(Payout.id)
    ).all()
    statuses: dict[str, int] = {}
    for _, _, status in rows:
        statuses[status] = statuses.get(status, 0) + 1
    return BatchView(
        batch.id,
        batch.currency,
        batch.created_at,
        [r.id for r in rows],
        sum(r.amount_minor for r in rows),
        statuses,
    )


def batch_csv(batch_id: int) -> Iterator[str]:
    """The batch as CSV lines for the finance team: amounts in major units with exactly
    the currency's decimals (``12.50``, ``1250`` for JPY), one row per payout."""
    if db.session.get(PayoutBatch, batch_id) is None:
        raise NotFound("No such payout batch.")  # here, before a response has started
    query = (
        select(Payout, User.email, User.name)
        .join(User, User.id == Payout.webmaster_id)
        .where(Payout.batch_id == batch_id)
        .order_by(Payout.id)
    )
    return _csv_lines(query)


def _csv_lines(query) -> Iterator[str]:
    """Runs the query as the lines are read: a streamed response reads them after the
    request's session is closed, on the session of the context it pushes again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    for payout, email, name in db.session.execute(query):
        writer.writerow(
            [
                payout.id,
                payout.webmaster_id,
                _safe(email),
                _safe(name),
                major_units(payout.amount_minor, payout.currency),
                payout.currency,
                clock.isoformat(payout.created_at, timespec="seconds"),
            ]
        )
        yield _drain(buffer)


def settle_batch(
    batch_id: int, *, paid: bool, payout_ids: list[int] | None, settled_by_id: int | None, note: str = ""
) -> BatchSettlement:
    """Mark the listed payouts of the batch, or when none are listed every one still
    requested, paid or failed. A payout that already has this outcome is left as it is;
    a listed one settled the other way refuses the whole call, before anything changes."""
    if db.session.get(PayoutBatch, batch_id) is None:
        raise NotFound("No such payout batch.")
    outcome = PAID if paid else FAILED
    # The batch's payout rows in id order, then every account their settlements touch in
    # one statement: the order a single settlement takes (its payout, then its accounts),
    # so a settlement or a payout request running meanwhile cannot deadlock with this one.
    rows = db.session.execute(
        select(Payout.id, Payout.status, Payout.webmaster_id, Payout.currency)
        .where(Payout.batch_id == batch_id)
        .order_by(Payout.id)
        .with_for_update()
    ).all()
    statuses = {payout_id: status for payout_id, status, _, _ in rows}
    ledger.lock_accounts(
        [webmaster_available(webmaster_id, currency) for _, _, webmaster_id, currency in rows]
        + [platform("cash_out", currency) for currency in {row.currency for row in rows}]
    )
    if payout_ids is None:
        payout_ids = [payout_id for payout_id, status in statuses.items() if status in (REQUESTED, outcome)]
    wanted = sorted(set(payout_ids))
    strangers = [payout_id for payout_id in wanted if payout_id not in statuses]
    if strangers:
        raise Invalid(
            "Some payouts are not in this batch.",
            fields={"payout_ids": [f"Not in batch {batch_id}: {', '.join(map(str, strangers))}."]},
        )
    other = [payout_id for payout_id in wanted if statuses[payout_id] not in (REQUESTED, outcome)]
    if other:
        raise Conflict(
            f"Already settled the other way, nothing changed: {', '.join(map(str, other))}.",
            code="payout_settled",
        )
    result = BatchSettlement(batch_id, outcome)
    for payout_id in wanted:
        if statuses[payout_id] == outcome:
            result.unchanged.append(payout_id)
            continue
        settle_payout(payout_id, paid=paid, settled_by_id=settled_by_id, note=note)
        result.settled.append(payout_id)
    return result


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
