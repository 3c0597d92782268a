"""Exports as tasks: the same rows and columns as the streamed CSVs, written in batches.

The leads export reuses the streamed export's layout and cell quoting
(exchange/leads/bulk/api.py); the report export the report's query and its role's
columns (exchange/reports). Each batch ends with a progress write; the CSV is kept on
the task when the last batch is done. A run starts over, so running twice gives one
result: the latest run's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.api import LeadFilterSchema, filtered_leads
from exchange.leads.bulk.export import csv_lines, drain, lead_csv_layout
from exchange.leads.models import Lead
from exchange.longjobs.domain import MAX_RESULT_BYTES
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import TaskFailed, active_owner, finish, record_progress
from exchange.reports.csv_rows import csv_names, csv_rows
from exchange.reports.domain import columns_for, dimension_keys
from exchange.reports.query import report_rows
from exchange.reports.schemas import ReportQuerySchema

BATCH = 500


def export_leads(task_id: int, run: int) -> None:
    user = active_owner(task_id)
    args = _params(task_id, LeadFilterSchema())
    layout = lead_csv_layout(user, args["offer_id"])
    query = filtered_leads(user, args)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    record_progress(task_id, run, done=0, total=total)
    ascending = args["order"] == "asc"

    def rows() -> Iterator[list]:
        done, last_id = 0, None
        while True:
            batch = (
                query
                if last_id is None
                else query.where(Lead.id > last_id if ascending else Lead.id < last_id)
            )
            leads = list(db.session.scalars(batch.limit(BATCH)))
            if not leads:
                return
            yield from (layout.row(lead) for lead in leads)
            done, last_id = done + len(leads), leads[-1].id
            record_progress(task_id, run, done=done, total=total)

    finish(
        task_id, run, result=_bounded(csv_lines(layout.header, rows())), result_name=f"leads-{task_id}.csv"
    )


def export_report(task_id: int, run: int) -> None:
    viewer = active_owner(task_id)
    args = _params(task_id, ReportQuerySchema())
    group_by, since, until = args["group_by"], args["since"], args["until"]
    header = [*dimension_keys(group_by), "currency", *csv_names(columns_for(viewer.role))]
    rows = list(report_rows(viewer, group_by, args, since, until))
    record_progress(task_id, run, done=0, total=len(rows))

    def batched_rows() -> Iterator[list]:
        for start in range(0, len(rows), BATCH):
            yield from csv_rows(iter(rows[start : start + BATCH]), header)
            record_progress(task_id, run, done=min(start + BATCH, len(rows)), total=len(rows))

    name = f"report-{since}-{until}-by-{'-'.join(group_by)}.csv"
    finish(task_id, run, result=_bounded(_plain_lines(header, batched_rows())), result_name=name)


def _params(task_id: int, schema: Schema) -> dict:
    """The export's params as ``schema`` loads them; TaskFailed if they are no longer valid
    (checked on start: only a changed rule gets here), for no run would do better."""
    try:
        return schema.load(dict(db.session.get(LongTask, task_id).params))
    except ValidationError as error:
        raise TaskFailed(
            f"The export's params are no longer valid ({error.messages}); start it again."
        ) from None


def _plain_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """As the streamed report CSV writes them (billing.statements.csv_rows.csv_response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        yield drain(buffer)
    yield drain(buffer)


def _bounded(lines: Iterable[str]) -> bytes:
    out, size = io.BytesIO(), 0
    for line in lines:
        chunk = line.encode()
        size += len(chunk)
        if size > MAX_RESULT_BYTES:
            raise TaskFailed(
                f"The export is larger than {MAX_RESULT_BYTES // (1024 * 1024)} MB: narrow the filters "
                "(fewer days, one offer or one status) and start it again."
            )
        out.write(chunk)
    return out.getvalue()
