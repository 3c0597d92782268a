"""Payouts over the API: a webmaster's payout settings (rail and schedule); for admins,
manual payout batches (create, CSV for the finance team, settle)."""

from __future__ import annotations

from flask import Response, stream_with_context
from marshmallow import Schema, fields, validate

from billing.payouts.batches import batch_csv, batch_view, create_batch, settle_batch
from billing.payouts.domain import RAILS, SCHEDULES, STRIPE_ACCOUNT_ID
from billing.payouts.settings import save_settings, settings_of
from exchange.accounts.auth import api_key_required, caller
from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID
from exchange.db import commit
from exchange.openapi import CSV_BODY, Blueprint
from exchange.schema_fields import UtcDateTime, currency

blp = Blueprint("payouts", __name__, url_prefix="/api/v1", description="Payout rails, schedules, batches")


class PayoutSettingsSchema(Schema):
    rail = fields.String(
        load_default="manual",
        validate=validate.OneOf(RAILS),
        metadata={"description": "manual (a payout batch paid by the finance team) or stripe_connect"},
    )
    stripe_account_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=80),
        metadata={
            "description": "Your Stripe connected account (acct_...), for the stripe_connect rail.",
            "pattern": f"^{STRIPE_ACCOUNT_ID.pattern}$",
        },
    )
    schedule = fields.String(
        load_default="on_demand",
        validate=validate.OneOf(SCHEDULES),
        metadata={"description": "on_demand, weekly or monthly: the whole available balance, per currency"},
    )
    weekday = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=7),
        metadata={"description": "Weekly: ISO weekday, 1 = Monday ... 7 = Sunday."},
    )
    day_of_month = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=31),
        metadata={"description": "Monthly: 1 to 31 (the last day in a shorter month)."},
    )
    thresholds_minor = fields.Dict(
        keys=currency(),
        values=fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)),
        load_default=dict,
        validate=validate.Length(max=50),
        metadata={
            "description": "Per currency (ISO 4217 code -> minor units): a scheduled payout waits until the "
            "balance reaches this."
        },
    )
    updated_at = UtcDateTime(dump_only=True, allow_none=True)


class BatchRequestSchema(Schema):
    currency = currency(required=True)


class BatchSchema(Schema):
    id = fields.Integer()
    currency = fields.String()
    created_at = UtcDateTime()
    payout_ids = fields.List(fields.Integer())
    total_minor = fields.Integer()
    statuses = fields.Dict(keys=fields.String(), values=fields.Integer())


class BatchSettleSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["paid", "failed"]))
    payout_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        load_default=None,
        validate=validate.Length(min=1, max=10_000),
        metadata={"description": "Only these payouts of the batch; all of them when left out."},
    )
    note = fields.String(load_default="", validate=validate.Length(max=500))


class BatchSettlementSchema(Schema):
    batch_id = fields.Integer()
    outcome = fields.String()
    settled = fields.List(fields.Integer(), metadata={"description": "Settled by this call."})
    unchanged = fields.List(fields.Integer(), metadata={"description": "Already had this outcome."})


@blp.route("/payout-settings", methods=["GET"])
@api_key_required("webmaster")
@blp.response(200, PayoutSettingsSchema)
def get_settings():
    return settings_of(caller().id)


@blp.route("/payout-settings", methods=["PUT"])
@blp.rules(
    "weekday only with schedule weekly, day_of_month only with monthly, each needed by its schedule",
    "stripe_account_id only with rail stripe_connect: acct_ and letters or digits",
    "thresholds_minor: keyed by ISO 4217 codes, each at least the currency's smallest payout",
)
@api_key_required("webmaster")
@blp.arguments(PayoutSettingsSchema)
@blp.response(200, PayoutSettingsSchema)
def put_settings(data: dict):
    """Replace your payout settings (a field left out takes its default)."""
    settings = save_settings(caller().id, data)
    commit()
    return settings


@blp.route("/admin/payout-batches", methods=["POST"])
@api_key_required("admin")
@blp.arguments(BatchRequestSchema)
@blp.response(201, BatchSchema)
def post_batch(data: dict):
    """Gather every requested manual payout of the currency not in a batch yet."""
    batch = create_batch(data["currency"], caller().id)
    commit()
    return batch_view(batch.id)


@blp.route("/admin/payout-batches/<id:batch_id>", methods=["GET"])
@api_key_required("admin")
@blp.response(200, BatchSchema)
def get_batch(batch_id: int):
    return batch_view(batch_id)


@blp.route("/admin/payout-batches/<id:batch_id>.csv", methods=["GET"])
@api_key_required("admin")
@blp.doc(responses=CSV_BODY)
@blp.response(
    200, description="text/csv: " + "payout_id, webmaster_id, email, name, amount, currency, requested_at"
)
def get_batch_csv(batch_id: int):
    response = Response(stream_with_context(batch_csv(batch_id)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payout-batch-{batch_id}.csv"'
    return response


@blp.route("/admin/payout-batches/<id:batch_id>/settle", methods=["POST"])
@api_key_required("admin")
@blp.arguments(BatchSettleSchema)
@blp.response(200, BatchSettlementSchema)
def post_batch_settle(data: dict, batch_id: int):
    """Mark the batch's payouts (or the listed ones) paid, or failed (their money is
    available again); each once: a payout that already has the outcome is left alone."""
    result = settle_batch(
        batch_id,
        paid=data["outcome"] == "paid",
        payout_ids=data["payout_ids"],
        settled_by_id=caller().id,
        note=data["note"],
    )
    commit()
    return result
