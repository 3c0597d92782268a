"""Disputes about something a feature above this module owns: a sale of the exchange.

The disputes module knows leads, not sales (a sale's feature opens its disputes through
``start_dispute``). So, as billing announces money events (billing/events.py), the feature
that owns the thing registers when the app is created (``exchange/__init__.py``) how an
upheld claim about it is settled and what the moderators see of it
(exchange/buying/returns.py for sale returns). A kind nobody registered cannot be settled:
the app did not start whole, and the decision fails rather than apply without its money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from exchange.actors import Actor
from exchange.disputes.models import Dispute

_SUBJECTS = "disputes.subjects"


@dataclass(frozen=True)
class Subject:
    settle: Callable[[Dispute, Actor, str], None]  # the claim upheld: in the decision's transaction
    evidence: Callable[[Dispute], dict[str, Any]]  # added to what the moderators read


def register(app: Flask, kind: str, subject: Subject) -> None:
    app.extensions.setdefault(_SUBJECTS, {})[kind] = subject


def subject_of(kind: str) -> Subject:
    try:
        return current_app.extensions[_SUBJECTS][kind]
    except KeyError:
        raise RuntimeError(
            f"No feature registered disputes of kind {kind!r}: the app did not start whole."
        ) from None
