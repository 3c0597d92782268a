from __future__ import annotations

from marshmallow import Schema, fields, validate

from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID
from exchange.schema_fields import UtcDateTime, currency


class PayoutSchema(Schema):
    id = fields.Integer()
    currency = fields.String()
    amount_minor = fields.Integer()
    status = fields.String()
    created_at = UtcDateTime()
    settled_at = UtcDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    rail = fields.String(metadata={"description": "manual or stripe_connect, fixed when requested"})
    stripe_transfer_id = fields.String(
        metadata={"description": "The Stripe transfer (tr_...) that paid it"}, allow_none=True
    )
    batch_id = fields.Integer(metadata={"description": "The manual payout batch it is in"}, allow_none=True)
    schedule_key = fields.String(
        metadata={"description": "Set on a scheduled payout: its period"}, allow_none=True
    )


class BalanceSchema(Schema):
    purpose = fields.String()
    currency = fields.String()
    posted_minor = fields.Integer()
    available_minor = fields.Integer()
    pending_in_minor = fields.Integer()
    pending_out_minor = fields.Integer()


class TransferSchema(Schema):
    id = fields.String()
    kind = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    debit = fields.String(attribute="debit_account.code")
    credit = fields.String(attribute="credit_account.code")
    pending_id = fields.String(allow_none=True)
    lead_id = fields.Integer(allow_none=True)
    payout_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class OwnTransferSchema(Schema):
    """A transfer as one party sees it: its own account, which way the money
    went, and what kind of party is on the other side (never who)."""

    id = fields.String()
    kind = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    account = fields.String(metadata={"description": "Your account's purpose: available, hold, ..."})
    direction = fields.String(metadata={"description": "in or out of your account"})
    counterparty = fields.String(metadata={"description": "advertiser, webmaster or platform"})
    pending_id = fields.String(allow_none=True)
    lead_id = fields.Integer(allow_none=True)
    payout_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class CreditSchema(Schema):
    advertiser_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    currency = currency(required=True)
    amount_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)
    )
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80))


class SettleSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["paid", "failed"]))
    note = fields.String(load_default="", validate=validate.Length(max=500))
