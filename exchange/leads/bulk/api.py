"""Advertisers' bulk decisions and the CSV export of leads (its layout: export.py).

A bulk call decides each lead in its own transaction, so one lead that cannot be
decided (another advertiser's, already decided, past its review window) answers
its own row and undoes none of the others.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context
from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma
from sqlalchemy import select

from billing.domain import LedgerError
from exchange.accounts.auth import actor, api_key_required, caller
from exchange.bounds import MAX_ID
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.leads.api import LeadFilterSchema, filtered_leads
from exchange.leads.bulk.export import csv_lines, lead_csv_layout
from exchange.leads.decisions import advertiser_lead, approve_lead, reject_lead
from exchange.leads.models import Lead
from exchange.openapi import CSV_BODY, Blueprint

blp = Blueprint("leads_bulk", __name__, url_prefix="/api/v1", description="Leads in bulk")
MAX_BULK = 500
EXPORT_BATCH = 500


def lead_id_field() -> ma.Integer:
    return ma.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))


class RejectItemSchema(Schema):
    id = lead_id_field()
    reason = ma.String(validate=validate.Length(max=500), load_default=None)


class BulkDecisionSchema(Schema):
    approve = ma.List(lead_id_field(), load_default=list)
    reject = ma.List(ma.Nested(RejectItemSchema), load_default=list)
    openapi_rules = {  # exchange/openapi.py: one id at least, in either list
        "anyOf": [
            {"required": ["approve"], "properties": {"approve": {"minItems": 1}}},
            {"required": ["reject"], "properties": {"reject": {"minItems": 1}}},
        ]
    }

    @validates_schema
    def _size(self, data: dict, **_kwargs) -> None:
        ids = [*data["approve"], *(item["id"] for item in data["reject"])]
        if not ids:
            raise ValidationError("Send at least one id in approve or reject.", "approve")
        if len(ids) > MAX_BULK:
            raise ValidationError(f"At most {MAX_BULK} leads per call.", "approve")
        if len(set(ids)) != len(ids):
            raise ValidationError("Each lead at most once per call.", "approve")


class BulkRowSchema(Schema):
    id = ma.Integer()
    action = ma.String(metadata={"description": "approve or reject"})
    ok = ma.Boolean()
    status = ma.String(allow_none=True, metadata={"description": "The lead's status afterwards"})
    code = ma.String(allow_none=True, metadata={"description": "Why not: not_found, lead_not_pending, ..."})
    message = ma.String(allow_none=True)


class BulkResultSchema(Schema):
    results = ma.List(ma.Nested(BulkRowSchema))
    approved = ma.Integer()
    rejected = ma.Integer()
    failed = ma.Integer()


@blp.route("/leads/bulk", methods=["POST"])
@blp.rules(f"each lead once across approve and reject; at most {MAX_BULK} in all")
@api_key_required("advertiser")
@blp.arguments(BulkDecisionSchema)
@blp.response(200, BulkResultSchema)
def bulk_decide(data: dict):
    """Approve and reject up to 500 of your pending leads; one row per lead, in the order sent."""
    rows = [_decide(lead_id, "approve", None) for lead_id in data["approve"]]
    rows += [_decide(item["id"], "reject", item["reason"]) for item in data["reject"]]
    done = [row for row in rows if row["ok"]]
    return {
        "results": rows,
        "approved": sum(row["action"] == "approve" for row in done),
        "rejected": sum(row["action"] == "reject" for row in done),
        "failed": len(rows) - len(done),
    }


def _decide(lead_id: int, action: str, reason: str | None) -> dict:
    row = {"id": lead_id, "action": action, "ok": False, "status": None, "code": None, "message": None}
    try:
        lead_id = advertiser_lead(caller().id, lead_id).id
        if action == "approve":
            lead = approve_lead(lead_id, actor(), note=reason)
        else:
            lead = reject_lead(lead_id, actor(), note=reason)
        commit()
    except (AppError, LedgerError) as error:
        rollback()
        row["code"] = getattr(error, "code", "conflict")
        row["message"] = getattr(error, "message", str(error))
        if row["code"] != "not_found":
            row["status"] = db.session.scalar(select(Lead.status).where(Lead.id == lead_id))
        return row
    row.update(ok=True, status=lead.status)
    return row


# -- CSV export ---------------------------------------------------------------------------------


@blp.route("/leads/export.csv", methods=["GET"])
@api_key_required("advertiser", "webmaster")
@blp.arguments(LeadFilterSchema, location="query")
@blp.doc(responses=CSV_BODY)
@blp.response(200, description="text/csv, one row per lead, the filters of GET /leads (no pages)")
def export_csv(args: dict):
    user = caller()
    layout = lead_csv_layout(user, args["offer_id"])
    query = filtered_leads(user, args).execution_options(yield_per=EXPORT_BATCH)

    def rows() -> Iterator[list]:
        # Run while the response streams, on the session of the context stream_with_context
        # pushes again: the request's own session is closed (torn down) by then, and a
        # result read in batches from it stops at its first batch.
        for lead in db.session.scalars(query):
            yield layout.row(lead)

    response = Response(stream_with_context(csv_lines(layout.header, rows())), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="leads.csv"'
    return response
