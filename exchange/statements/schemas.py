"""Queries and answers of invoices and the revenue report (exchange/statements/api.py)."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from billing.statements.schemas import MAX_REPORT_DAYS, MonthField, page_field, per_page_field, this_month
from exchange import clock
from exchange.schema_fields import UtcDateTime, currency
from exchange.statements.revenue import GROUPS


class InvoiceQuerySchema(Schema):
    month = MonthField(
        load_default=this_month,
        metadata={"description": "YYYY-MM, UTC, a month that has begun; this month if left out."},
    )
    currency = currency(load_default=None)


class RevenueQuerySchema(Schema):
    from_ = fields.Date(
        data_key="from",
        load_default=lambda: this_month().start.date(),
        metadata={"description": f"First day: not after to, fewer than {MAX_REPORT_DAYS} days before it."},
    )
    to = fields.Date(
        load_default=lambda: clock.now().date(), metadata={"description": "Last day (included)."}
    )
    currency = currency(required=True)
    group_by = fields.String(load_default="offer", validate=validate.OneOf(GROUPS))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    page = page_field()
    per_page = per_page_field(100, 500)

    @validates_schema
    def _range(self, data: dict, **_kwargs) -> None:
        first, last = data.get("from_"), data.get("to")
        if not isinstance(first, date) or not isinstance(last, date):
            return
        if last >= date.max:  # its end, the next midnight, is past what a date can hold
            raise ValidationError("Must be a day before 9999-12-31.", "to")
        if first > last:
            raise ValidationError("Must not be after to.", "from")
        if (last - first).days >= MAX_REPORT_DAYS:
            raise ValidationError(f"At most {MAX_REPORT_DAYS} days.", "from")


# -- answers -------------------------------------------------------------------------------------


class OfferChargesSchema(Schema):
    offer_id = fields.Integer(attribute="id")
    offer_name = fields.String(attribute="name")
    leads_charged = fields.Integer()
    charged_minor = fields.Integer()
    leads_returned = fields.Integer()
    returned_minor = fields.Integer()
    net_minor = fields.Integer()


class VerticalChargesSchema(Schema):
    vertical_id = fields.Integer(attribute="id")
    vertical_name = fields.String(attribute="name")
    leads_charged = fields.Integer()
    charged_minor = fields.Integer()
    leads_returned = fields.Integer(metadata={"description": "Sales returned after their approval."})
    returned_minor = fields.Integer()
    net_minor = fields.Integer()


class TopupLineSchema(Schema):
    date = UtcDateTime(attribute="at")
    reference = fields.String()
    amount_minor = fields.Integer()


class InvoiceSchema(Schema):
    number = fields.String()
    advertiser_id = fields.Integer()
    advertiser_name = fields.String()
    month = MonthField()
    currency = fields.String()
    final = fields.Boolean(metadata={"description": "The month is over; the invoice will not change."})
    offers = fields.List(fields.Nested(OfferChargesSchema))
    exchange = fields.List(
        fields.Nested(VerticalChargesSchema),
        metadata={"description": "Exchange leads bought, by vertical; counted in the totals."},
    )
    topups = fields.List(fields.Nested(TopupLineSchema))
    leads_charged = fields.Integer()
    charged_minor = fields.Integer()
    leads_returned = fields.Integer()
    returned_minor = fields.Integer()
    total_minor = fields.Integer(metadata={"description": "Charges less returns."})
    topups_minor = fields.Integer()


class RevenueRowSchema(Schema):
    key = fields.String()
    label = fields.String()
    leads_approved = fields.Integer()
    margin_minor = fields.Integer()
    leads_returned = fields.Integer()
    returned_minor = fields.Integer()
    net_minor = fields.Integer()


class RevenueSchema(Schema):
    currency = fields.String()
    from_ = fields.Date(attribute="first", data_key="from")
    to = fields.Date(attribute="last")
    group_by = fields.String()
    total = fields.Nested(RevenueRowSchema)
    rows = fields.List(fields.Nested(RevenueRowSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    groups = fields.Integer(metadata={"description": "Rows in the whole report, on every page."})
