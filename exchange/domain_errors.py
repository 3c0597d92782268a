"""The base of every refusal the pure core raises. Pure: no framework, no database.

A rule that does not allow a move (a lead's state table, a dispute's, the ledger's)
raises a ``DomainError`` with a stable ``code``; the HTTP layer (``exchange/errors.py``)
answers every one of them alike (409 with the code and the message), so it needs to
know none of the features that raise them.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "conflict"
