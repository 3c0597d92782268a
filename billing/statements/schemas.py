"""What statements, invoices and the revenue report take and answer (the API's and the pages')."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from billing.domain import PURPOSES
from billing.statements.domain import Month
from exchange import clock
from exchange.bounds import MAX_PAGE
from exchange.schema_fields import DocumentedField, UtcDateTime, currency

MAX_REPORT_DAYS = 3 * 366
OWN_PURPOSES = sorted(set(PURPOSES["advertiser"]) | set(PURPOSES["webmaster"]))


class MonthField(DocumentedField):
    """``YYYY-MM`` (UTC), loaded as a ``Month``; a month that has not begun is refused."""

    def documented(self) -> dict:
        return {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "example": "2026-01"}

    def _deserialize(self, value, attr, data, **kwargs) -> Month:
        try:
            month = Month.parse(value if isinstance(value, str) else "")
        except ValueError:
            raise ValidationError("A month like 2026-01.") from None
        if month.start > clock.now():
            raise ValidationError("That month has not begun.")
        return month

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else str(value)


def this_month() -> Month:
    return Month.of(clock.now())


def page_field() -> fields.Integer:
    return fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def per_page_field(default: int, most: int) -> fields.Integer:
    return fields.Integer(load_default=default, validate=validate.Range(min=1, max=most))


class StatementQuerySchema(Schema):
    account = fields.String(
        load_default="available",
        validate=validate.OneOf(OWN_PURPOSES),
        metadata={"description": "Your account: available; hold (webmasters), debt (advertisers)."},
    )
    currency = currency(load_default=None, metadata={"description": "Required except with code."})
    month = MonthField(
        load_default=this_month,
        metadata={
            "description": "YYYY-MM, UTC, a month that has begun; this month if left out.",
        },
    )
    code = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Admins only: any account by its code, e.g. platform:revenue:USD."},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    page = page_field()
    per_page = per_page_field(500, 1000)


# -- answers -------------------------------------------------------------------------------------


class BalancePairSchema(Schema):
    posted_minor = fields.Integer(attribute="posted")
    available_minor = fields.Integer(attribute="available")


class StatementAccountSchema(Schema):
    code = fields.String()
    owner = fields.String()
    purpose = fields.String()
    currency = fields.String()


class StatementLineSchema(Schema):
    date = UtcDateTime(attribute="entry.at")
    id = fields.String(attribute="entry.transfer_id")
    description = fields.String(attribute="entry.description")
    direction = fields.String(attribute="entry.direction", metadata={"description": "in or out"})
    counterparty = fields.String(attribute="entry.counterparty")
    kind = fields.String(
        attribute="entry.kind", metadata={"description": "posted, pending, post_pending, void_pending"}
    )
    amount_minor = fields.Integer(attribute="entry.amount_minor")
    posted_minor = fields.Integer(metadata={"description": "Running posted balance after this transfer."})
    available_minor = fields.Integer(
        metadata={"description": "Running available balance (posted less open reservations) after it."}
    )
    lead_id = fields.Integer(attribute="entry.lead_id", allow_none=True)
    payout_id = fields.Integer(attribute="entry.payout_id", allow_none=True)
    pending_id = fields.String(attribute="entry.pending_id", allow_none=True)


class StatementSchema(Schema):
    account = fields.Nested(StatementAccountSchema)
    month = MonthField()
    opening = fields.Nested(BalancePairSchema)
    closing = fields.Nested(BalancePairSchema)
    lines = fields.List(fields.Nested(StatementLineSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Lines in the month, on every page."})
