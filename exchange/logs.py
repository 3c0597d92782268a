"""Logs (docs/operations.md, "Logs"): JSON lines in production, text elsewhere.

Every record made while a request is served carries the request's id, and every record
made while a job runs carries the job's id and queue, whichever logger made it (the
app's, SQLAlchemy's, rq's): a record factory adds them, so a handler or a test reads them
as attributes (``request_id``, ``job``, ``job_queue``; JSON lines name them ``job_id`` and
``queue``). The attributes' names are not the ones rq passes as ``extra`` (``job_id``,
``queue``): a record may not be given an attribute its factory already set, and rq's
error line for a failed job would raise instead of being logged. The request id is the caller's
``X-Request-ID`` when it is a plain token (a proxy's or a load balancer's, so one id
follows the request through them), else a new one; the response returns it in the same
header. Log lines say what happened to which ids (lead 42, key 7), never a consumer's
personal data.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from rq import get_current_job

REQUEST_ID_HEADER = "X-Request-ID"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(job)s %(job_queue)s"
JSON_NAMES = {
    "asctime": "time",
    "levelname": "level",
    "name": "logger",
    "job": "job_id",
    "job_queue": "queue",
}
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what a caller's id may be (no log injection)
_in_process_job: ContextVar[tuple[str | None, str] | None] = ContextVar("in_process_job", default=None)


def init_app(app: Flask) -> None:
    _add_ids_to_records()
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, handlers=[_handler(app.config["LOG_FORMAT"])])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app.before_request(_take_request_id)
    app.after_request(_return_request_id)


@contextmanager
def job_context(job_id: str | None, queue: str) -> Iterator[None]:
    """Records made inside carry this job's id and queue (a job run in-process; rq's own
    jobs are found through rq)."""
    token = _in_process_job.set((job_id, queue))
    try:
        yield
    finally:
        _in_process_job.reset(token)


def _handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def _add_ids_to_records() -> None:
    """Once per process: every record gets the request's and the job's ids (or None)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "adds_ids", False):
        return

    def record_with_ids(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = g.get("request_id") if has_request_context() else None
        record.job, record.job_queue = _current_job() or (None, None)
        return record

    record_with_ids.adds_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record_with_ids)


def _current_job() -> tuple[str | None, str] | None:
    if (in_process := _in_process_job.get()) is not None:
        return in_process
    job = get_current_job()
    return (job.id, job.origin) if job is not None else None


def request_id_from(given: str) -> str:
    """The caller's id when it is a plain token, else a new one."""
    return given if _PLAIN_TOKEN.fullmatch(given) else uuid.uuid4().hex


def _take_request_id() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))


def _return_request_id(response: Response) -> Response:
    if request_id := g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = request_id
    return response
