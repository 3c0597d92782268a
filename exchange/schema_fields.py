"""Fields shared by the API's schemas. Patterns are anchored with \\A and \\Z
(``$`` would also match before a trailing line break)."""

from __future__ import annotations

from marshmallow import fields, validate


def currency(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(r"\A[A-Z]{3}\Z", error="An ISO 4217 code, upper case."), **kwargs
    )


def country(**kwargs) -> fields.String:
    return fields.String(
        validate=validate.Regexp(r"\A[A-Z]{2}\Z", error="ISO 3166 alpha-2, upper case."), **kwargs
    )
