"""The moderators' audit log over the API, and its CSV export (docs/moderation.md).

For moderators and admins. The log is append-only (the database refuses UPDATE and
DELETE on it); these endpoints only read it, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma
from sqlalchemy import Select, select

from billing.statements.csv_rows import csv_response, text
from exchange import clock
from exchange.accounts.auth import api_key_required
from exchange.bounds import MAX_ID
from exchange.extensions import db
from exchange.moderation.audit.models import ModerationAction
from exchange.openapi import CSV_BODY, Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate

blp = Blueprint("moderation_audit", __name__, url_prefix="/api/v1", description="Moderators' audit log")
UNTIL_AFTER_SINCE = "until: later than since"  # a rule said in words (exchange/openapi.py)
MODERATORS = ("moderator", "admin")
EXPORT_BATCH = 500
AUDIT_HEADER = (
    "id", "created_at", "actor_kind", "actor_user_id", "actor_label", "action",
    "subject_type", "subject_id", "reason", "data",
)  # fmt: skip


class AuditFilterSchema(Schema):
    actor_user_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    action = ma.String(load_default=None, validate=validate.Length(min=1, max=40))
    subject_type = ma.String(
        load_default=None,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "dispute, lead, user, ..."},
    )
    subject_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    since = ma.NaiveDateTime(
        timezone=UTC,
        load_default=None,
        metadata={"description": "Recorded at or after (ISO 8601; no offset means UTC)."},
    )
    until = ma.NaiveDateTime(
        timezone=UTC, load_default=None, metadata={"description": "Recorded before; later than since."}
    )

    @validates_schema
    def _in_order(self, data: dict, **_kwargs) -> None:
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be later than since.", "until")


class AuditQuerySchema(PageQuerySchema, AuditFilterSchema):
    pass


def iso_utc(at: datetime) -> str:
    """A naive UTC timestamp as ISO 8601 with its offset: ``2026-01-15T12:00:00Z``."""
    return clock.isoformat(at)


class AuditEntrySchema(Schema):
    id = ma.Integer()
    created_at = ma.Function(lambda entry: iso_utc(entry.created_at), metadata={"description": "UTC"})
    actor_kind = ma.String(metadata={"description": "user, api_key or system"})
    actor_user_id = ma.Integer(allow_none=True)
    actor_label = ma.String()
    action = ma.String()
    subject_type = ma.String()
    subject_id = ma.Integer()
    reason = ma.String(allow_none=True)
    data = ma.Dict()


def filtered_actions(args: dict) -> Select:
    query = select(ModerationAction)
    for name in ("actor_user_id", "action", "subject_type", "subject_id"):
        if args.get(name) is not None:
            query = query.where(getattr(ModerationAction, name) == args[name])
    if args.get("since"):
        query = query.where(ModerationAction.created_at >= args["since"])
    if args.get("until"):
        query = query.where(ModerationAction.created_at < args["until"])
    return query.order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())


@blp.route("/moderation/audit", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, page_schema(AuditEntrySchema))
def audit_log(args: dict):
    """Every moderator's actions (and the rules acting for them), newest first:
    who, what, on what, when, why."""
    return paginate(filtered_actions(args), args["page"], args["per_page"])


@blp.route("/moderation/audit.csv", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(AuditFilterSchema, location="query")
@blp.doc(responses=CSV_BODY)
@blp.response(200, description="text/csv: a header row, then every matching entry (no pages), newest first")
def audit_csv(args: dict):
    return audit_csv_response(args)


def audit_csv_response(args: dict):
    """The matching entries as a streamed CSV (the API's export and the moderators' page's)."""
    query = filtered_actions(args).execution_options(yield_per=EXPORT_BATCH)

    def rows() -> Iterator[list]:
        for entry in db.session.scalars(query):
            yield audit_row(entry)

    return csv_response(AUDIT_HEADER, rows(), "moderation-audit.csv")


def audit_row(entry: ModerationAction) -> list:
    """One entry as CSV cells; free text guarded against spreadsheet formulas."""
    return [
        entry.id,
        iso_utc(entry.created_at),
        text(entry.actor_kind),
        entry.actor_user_id if entry.actor_user_id is not None else "",
        text(entry.actor_label),
        text(entry.action),
        text(entry.subject_type),
        entry.subject_id,
        text(entry.reason),
        text(json.dumps(entry.data or {}, sort_keys=True, ensure_ascii=False)),
    ]
