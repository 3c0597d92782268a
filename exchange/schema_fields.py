"""Fields shared by the API's schemas. Patterns are anchored with \\A and \\Z
(``$`` would also match before a trailing line break)."""

from __future__ import annotations

from datetime import datetime

from marshmallow import fields, validate

from exchange import clock
from exchange.bounds import MAX_RETENTION_DAYS
from exchange.currencies import ISO_4217


class DocumentedField(fields.Field):
    """A field of our own that says in the document what it takes: ``documented()`` gives
    its JSON Schema keywords (type, pattern, example), under any metadata the schema adds."""

    def __init__(self, **kwargs) -> None:
        metadata = self.documented() | kwargs.pop("metadata", {})
        super().__init__(**kwargs, metadata=metadata)

    def documented(self) -> dict:
        return {}


def currency(**kwargs) -> fields.String:
    """An active ISO 4217 code (exchange.currencies), declared as an enum in the document."""
    return fields.String(
        validate=validate.OneOf(sorted(ISO_4217), error="An ISO 4217 code, upper case."), **kwargs
    )


def country(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(r"\A[A-Z]{2}\Z", error="ISO 3166 alpha-2, upper case."), **kwargs
    )


def retention_days() -> fields.Integer:
    """An offer's or a vertical's retention period (docs/privacy.md); null keeps leads' data."""
    return fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_RETENTION_DAYS),
        metadata={
            "description": "Days after which a decided lead's personal data is erased (docs/privacy.md); "
            "null: kept."
        },
    )


class UtcDateTime(fields.DateTime):
    """A moment in UTC, the only kind the API writes: ``2026-12-05T07:49:04.897963Z`` from the
    naive UTC the database keeps. Read with any offset (none: UTC), loaded as naive UTC."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs) -> str | None:
        return None if value is None else clock.isoformat(value)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        return clock.as_naive_utc(super()._deserialize(value, attr, data, **kwargs))
