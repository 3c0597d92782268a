"""Bounds on numbers the outside world sends, so that a number too large
for a column is refused with a field message, never a database error."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # integer primary keys
MAX_AMOUNT_MINOR = 10**12  # ten billion in major units: far above any real amount
MAX_WINDOW_SECONDS = 10 * 365 * 86400
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a positive integer that fits a primary key."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)
