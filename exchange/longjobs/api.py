"""``/api/v1/exports``, ``/api/v1/imports/decisions`` and ``/api/v1/tasks`` (docs/tasks.md).

Starting one answers 202 with the task; poll ``GET /tasks/<id>`` until its state is done
(or failed), then fetch ``GET /tasks/<id>/download`` (exports) before it expires (410)."""

from __future__ import annotations

from flask import url_for
from marshmallow import ValidationError

from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.errors import AppError, Conflict, Invalid
from exchange.leads.api import LeadFilterSchema
from exchange.longjobs.domain import LEADS_EXPORT, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from exchange.longjobs.schemas import ExportRequestSchema, TaskSchema
from exchange.longjobs.services import (
    start_decisions_import,
    start_leads_export,
    start_report_export,
    tasks_of,
    visible_task,
)
from exchange.longjobs.views import csv_download, uploaded_csv
from exchange.openapi import CSV_BODY, Blueprint
from exchange.reports.schemas import ReportQuerySchema

blp = Blueprint("long_tasks", __name__, url_prefix="/api/v1", description="Exports and imports as tasks")
ROLES = ("advertiser", "webmaster", "moderator", "admin")


class Gone(AppError):
    status = 410
    code = "expired"


def _accepted(long_task):
    return long_task, 202, {"Location": url_for("long_tasks.get_task", task_id=long_task.id)}


@blp.route("/exports", methods=["POST"])
@blp.rules(
    "params: the filters of GET /api/v1/leads (leads_export) or of GET /api/v1/reports (report_export)"
)
@api_key_required(*ROLES)
@blp.arguments(ExportRequestSchema)
@blp.response(202, TaskSchema)
def start_export(data: dict):
    """Start a CSV export: leads_export (advertisers, webmasters) or report_export (everyone)."""
    schema = LeadFilterSchema() if data["kind"] == LEADS_EXPORT else ReportQuerySchema()
    try:
        args = schema.load(data["params"])
    except ValidationError as error:
        raise Invalid("The export's params are not valid.", fields={"params": error.messages}) from None
    start = start_leads_export if data["kind"] == LEADS_EXPORT else start_report_export
    long_task = start(caller(), args)
    commit()
    return _accepted(long_task)


DECISIONS_CSV = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


@blp.route("/imports/decisions", methods=["POST"])
@blp.rules(
    f"file: a CSV whose header is lead_id,decision[,reason]; up to {MAX_IMPORT_ROWS:,} rows "
    f"and {MAX_IMPORT_BYTES // 2**20} MB"
)
@api_key_required("advertiser")
@blp.doc(requestBody=DECISIONS_CSV)
@blp.response(202, TaskSchema)
def import_decisions():
    """Upload a decisions CSV (multipart field ``file``: lead_id,decision,reason); up to
    10,000 rows and 2 MB. The file is checked whole first (422 with the reason)."""
    data = uploaded_csv()
    if data is None:
        raise Invalid("Send the CSV as the multipart field 'file'.", fields={"file": ["Missing."]})
    long_task = start_decisions_import(caller(), data)
    commit()
    return _accepted(long_task)


@blp.route("/tasks", methods=["GET"])
@api_key_required(*ROLES)
@blp.response(200, TaskSchema(many=True))
def list_tasks():
    """Your latest 100 tasks, newest first."""
    return tasks_of(caller())


@blp.route("/tasks/<id:task_id>", methods=["GET"])
@api_key_required(*ROLES)
@blp.response(200, TaskSchema)
def get_task(task_id: int):
    """One of your tasks: state, progress (done of total), and an import's per-row errors."""
    return visible_task(caller(), task_id)


@blp.route("/tasks/<id:task_id>/download", methods=["GET"])
@api_key_required(*ROLES)
@blp.doc(responses=CSV_BODY)
@blp.response(200, description="text/csv, the export's result (409 until the task is done, 410 once expired)")
def download(task_id: int):
    long_task = visible_task(caller(), task_id)
    if long_task.kind == "decisions_import":
        raise Conflict("An import has no file to download; its errors are on the task.", code="no_result")
    if long_task.expired_at is not None:
        raise Gone(long_task.message or "Expired: start the export again.")
    if long_task.state != "done":
        raise Conflict(f"The export is {long_task.state}; download it once it is done.", code="not_done")
    return csv_download(long_task)
