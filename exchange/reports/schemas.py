"""What ``GET /api/v1/reports`` takes and answers."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from exchange import clock
from exchange.reports.domain import DIMENSIONS
from exchange.schema_fields import DocumentedField

MAX_DAYS_APART = 366


class GroupByField(DocumentedField):
    """A comma list of dimensions (``day,offer``), each once; ``day`` and ``hour`` not both."""

    def documented(self) -> dict:
        # As read: split at commas, each name stripped, empty ones dropped; one name at least.
        name = r"\s*(" + "|".join(DIMENSIONS) + r")\s*"
        return {"type": "string", "pattern": rf"^(\s*,)*{name}(,({name}|\s*))*$", "example": "day,offer"}

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        names = [
            name.strip() for name in (value if isinstance(value, str) else "").split(",") if name.strip()
        ]
        if not names:
            raise ValidationError("One or more of: " + ", ".join(DIMENSIONS) + ".")
        unknown = [name for name in names if name not in DIMENSIONS]
        if unknown:
            raise ValidationError(f"Unknown: {', '.join(unknown)}. One or more of: {', '.join(DIMENSIONS)}.")
        if len(set(names)) != len(names):
            raise ValidationError("Each dimension once.")
        if "day" in names and "hour" in names:
            raise ValidationError("Either day or hour, not both.")
        return names

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else ",".join(value)


def _today() -> date:
    return clock.now().date()


class ReportQuerySchema(Schema):
    group_by = GroupByField(
        load_default=lambda: ["day"],
        metadata={
            "description": "Dimensions, comma-separated, each once, day or hour (not both); "
            "advertiser: not for webmasters (403)."
        },
    )
    since = fields.Date(
        load_default=lambda: _today() - timedelta(days=29), metadata={"description": "First day (UTC)."}
    )
    until = fields.Date(
        load_default=_today,
        metadata={
            "description": f"Last day, included (UTC): not before since, at most {MAX_DAYS_APART} days after."
        },
    )
    offer_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    webmaster_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    sub1 = fields.String(load_default=None, validate=validate.Length(max=255))
    country = fields.String(
        load_default=None, validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Two letters.")
    )

    @post_load
    def _country_upper(self, data: dict, **_kwargs) -> dict:
        if data.get("country"):
            data["country"] = data["country"].upper()
        return data

    @validates_schema
    def _range(self, data: dict, **_kwargs) -> None:
        since, until = data.get("since"), data.get("until")
        if not isinstance(since, date) or not isinstance(until, date):
            return
        if until >= date.max:
            raise ValidationError("Must be a day before 9999-12-31.", "until")
        if until < since:
            raise ValidationError("Must not be before since.", "until")
        if (until - since).days > MAX_DAYS_APART:
            raise ValidationError(f"At most {MAX_DAYS_APART} days after since.", "until")


class ReportSchema(Schema):
    since = fields.Date()
    until = fields.Date()
    group_by = fields.List(fields.String())
    columns = fields.List(fields.String())
    rows = fields.List(fields.Dict())
