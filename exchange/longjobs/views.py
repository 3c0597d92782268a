"""The tasks' pages: your tasks, one task with its progress bar, its download; the buttons
that start an export, and the decisions upload (/advertiser/leads/import).

The task page works without JavaScript (it refreshes itself while the task runs);
static/tasks.js moves its bar by polling /tasks/<id>.json instead.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as ma
from werkzeug.exceptions import RequestEntityTooLarge

from exchange.accounts.views import role_required
from exchange.bounds import LAST_DAY, MAX_ID
from exchange.db import commit, rollback
from exchange.errors import AppError, Invalid
from exchange.leads.domain import STATES
from exchange.longjobs.domain import (
    DONE,
    EXPORTS,
    LABELS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    TOO_LARGE,
    UNFINISHED,
    percent,
)
from exchange.longjobs.models import LongTask
from exchange.longjobs.schemas import TaskSchema
from exchange.longjobs.services import (
    start_decisions_import,
    start_leads_export,
    start_report_export,
    tasks_of,
    visible_task,
)
from exchange.reports.schemas import ReportQuerySchema

bp = Blueprint("tasks", __name__)
REFRESH_SECONDS = 2
UPLOAD_ENVELOPE = 64 * 1024  # the multipart body around the file


class LeadsPageFilterSchema(Schema):
    """The leads pages' filters, as their forms send them (days, not instants)."""

    status = ma.String(validate=validate.OneOf(STATES), load_default=None)
    offer_id = ma.Integer(validate=validate.Range(min=1, max=MAX_ID), load_default=None)
    since = ma.Date(load_default=None)
    until = ma.Date(load_default=None, validate=validate.Range(max=LAST_DAY))


@bp.get("/tasks")
@login_required
def tasks():
    return render_template("tasks.html", tasks=[_view(t) for t in tasks_of(current_user)])


@bp.get("/tasks/<id:task_id>")
@login_required
def task(task_id: int):
    shown = _view(_visible(task_id))
    return _no_store(Response(render_template("task.html", task=shown, refresh=REFRESH_SECONDS)))


@bp.get("/tasks/<id:task_id>.json")
@login_required
def task_json(task_id: int):
    long_task = _visible(task_id)
    body = TaskSchema(exclude=("errors", "params")).dump(long_task)
    body["download_url"] = _download_url(long_task)
    return _no_store(jsonify(body))


@bp.get("/tasks/<id:task_id>/download")
@login_required
def download(task_id: int):
    long_task = _visible(task_id)
    if long_task.expired_at is not None:
        abort(410, description=long_task.message or "Expired: start the export again.")
    if _download_url(long_task) is None:
        abort(404)
    return csv_download(long_task)


def uploaded_csv() -> bytes | None:
    """The uploaded file (field ``file``), read no further than the limit; None if none.
    A request body far over the limit is refused before it is read (as too large)."""
    request.max_content_length = MAX_IMPORT_BYTES + UPLOAD_ENVELOPE
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise Invalid(TOO_LARGE, code="bad_import", fields={"file": [TOO_LARGE]}) from None
    return upload.stream.read(MAX_IMPORT_BYTES + 1) if upload and upload.filename else None


def csv_download(long_task: LongTask) -> Response:
    response = Response(long_task.result, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{long_task.result_name}"'
    return response


@bp.post("/exports/leads")
@role_required("advertiser", "webmaster")
def export_leads():
    back = url_for(f"{current_user.role}_portal.leads")
    given = {name: value for name, value in request.form.items() if name != "csrf_token" and value.strip()}
    try:
        args = LeadsPageFilterSchema().load(given, unknown=EXCLUDE)
    except ValidationError as error:
        flash("Not started: the filters were not understood (" + _sentences(error.messages) + ").")
        return redirect(back, code=303)
    since, until = args["since"], args["until"]
    args["since"] = datetime.combine(since, time.min) if since else None
    args["until"] = datetime.combine(until + timedelta(days=1), time.min) if until else None
    return _started(lambda: start_leads_export(current_user, {**args, "order": "desc"}), back)


@bp.post("/exports/report")
@role_required("advertiser", "webmaster", "moderator", "admin")
def export_report():
    """Start a report export; takes GET /api/v1/reports' query, as form fields or in the URL."""
    back = _local(request.form.get("back")) or url_for(".tasks")
    given = {**request.args.to_dict(), **request.form.to_dict()}
    given = {name: value for name, value in given.items() if name not in ("csrf_token", "back") and value}
    try:
        args = ReportQuerySchema().load(given, unknown=EXCLUDE)
    except ValidationError as error:
        flash("Not started: the report's query was not understood (" + _sentences(error.messages) + ").")
        return redirect(back, code=303)
    return _started(lambda: start_report_export(current_user, args), back)


@bp.route("/advertiser/leads/import", methods=["GET", "POST"])
@role_required("advertiser")
def leads_import():
    limits = {"rows": MAX_IMPORT_ROWS, "megabytes": MAX_IMPORT_BYTES // (1024 * 1024)}
    if request.method == "GET":
        return render_template("leads_import.html", errors={}, limits=limits)
    try:
        data = uploaded_csv()
        if data is None:
            raise Invalid("No file.", fields={"file": ["Choose a CSV file to upload."]})
        long_task = start_decisions_import(current_user, data)
        commit()
    except AppError as refused:
        rollback()
        errors = refused.fields or {"file": [refused.message]}
        return render_template("leads_import.html", errors=errors, limits=limits), refused.status
    flash(f"Import started: task {long_task.id}.", "notice")
    return redirect(url_for(".task", task_id=long_task.id), code=303)


def _started(start, back: str):
    try:
        long_task = start()
        commit()
    except AppError as refused:
        rollback()
        flash(f"Not started: {refused.message}")
        return redirect(back, code=303)
    flash(f"Export started: task {long_task.id}.", "notice")
    return redirect(url_for(".task", task_id=long_task.id), code=303)


def _visible(task_id: int) -> LongTask:
    try:
        return visible_task(current_user, task_id)
    except AppError:
        abort(404)


def _download_url(long_task: LongTask) -> str | None:
    done = long_task.state == DONE and long_task.result_bytes and long_task.expired_at is None
    if long_task.kind in EXPORTS and done:
        return url_for("tasks.download", task_id=long_task.id)
    return None


def _view(long_task: LongTask) -> dict:
    return {
        "id": long_task.id,
        "kind": long_task.kind,
        "label": LABELS[long_task.kind],
        "state": long_task.state,
        "running": long_task.state in UNFINISHED,
        "done": long_task.done,
        "total": long_task.total,
        "failed": long_task.failed,
        "decided": long_task.done - long_task.failed,
        "percent": 100 if long_task.state == DONE else percent(long_task.done, long_task.total),
        "bar_max": max(long_task.total, 1),
        "bar_value": _bar_value(long_task),
        "message": long_task.message,
        "errors": long_task.errors or [],
        "download_url": _download_url(long_task),
        "expired": long_task.expired_at is not None,
        "result_name": long_task.result_name,
        "result_bytes": long_task.result_bytes,
        "created_at": long_task.created_at,
        "finished_at": long_task.finished_at,
        "params": long_task.params or {},
    }


def _bar_value(long_task: LongTask) -> int | None:
    """Where the bar stands; None (an indeterminate bar) while the rows are not counted yet."""
    if long_task.state == DONE:
        return max(long_task.total, 1)
    return long_task.done if long_task.total else None


def _no_store(response: Response) -> Response:
    """A task's progress changes every second: never from a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _local(path: str | None) -> str | None:
    """A path on this site to go back to: never another site's address, nor a header break."""
    if not path or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path) or "\\" in path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    return path


def _sentences(messages: dict) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(m) for m in (found if isinstance(found, list) else [found]))}"
        for name, found in messages.items()
    )
