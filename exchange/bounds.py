"""Bounds on numbers the outside world sends, so that a number too large
for a column is refused with a field message, never a database error."""

from __future__ import annotations

from datetime import date, timedelta

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # integer primary keys
MAX_AMOUNT_MINOR = 10**12  # ten billion in major units: far above any real amount
MAX_WINDOW_SECONDS = 10 * 365 * 86400
MAX_RETENTION_DAYS = 10 * 366  # an offer's or a vertical's retention period (docs/privacy.md)
MAX_PAGE = 100_000
LAST_DAY = date.max - timedelta(days=1)  # an inclusive "until" day: its next day must exist


def numbers_up_to(bound: int) -> str:
    """A regex matching exactly the decimal numbers 1..``bound`` (no sign, no leading zero)."""
    digits = str(bound)
    shorter = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = [
        rf"{digits[:i]}[{1 if i == 0 else 0}-{int(d) - 1}]\d{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    return "|".join([*shorter, *same_length, digits])


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a positive integer that fits a primary key. Any other
    number does not match the route at all (404), also where a path has one route per
    method: werkzeug checks the method before converting, so a number refused only on
    conversion would answer 405 there."""

    regex = numbers_up_to(MAX_ID)

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)
