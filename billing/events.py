"""Money events the marketplace listens to. Billing announces them; it knows no listener.

Billing sits below the marketplace: it knows a lead only as an opaque reference, and
nothing of offers, waiting leads or a user's notifications. When money arrives for an
advertiser (a top-up, a manual credit, a dispute won) or is taken back (a refund, a card
dispute), it announces ``FundsChanged``; the features that care subscribe when the app is
created (``exchange/__init__.py``): waiting leads are funded, offers follow the balance, the
advertiser is told. Listeners run in the announcer's transaction, so what they write commits
or rolls back with the money, and the jobs they ask for leave after that commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

_LISTENERS = "billing.funds_changed"


@dataclass(frozen=True)
class Notice:
    """What the advertiser is told of the change (a notification's kind, text and data)."""

    kind: str
    message: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FundsChanged:
    advertiser_id: int
    currency: str
    arrived: bool  # True: money came in; False: money was taken back
    notice: Notice | None = None


Listener = Callable[[FundsChanged], None]


def on_funds_changed(app: Flask, listener: Listener) -> None:
    """Call ``listener`` with every ``FundsChanged`` announced in ``app``."""
    app.extensions.setdefault(_LISTENERS, []).append(listener)


def funds_arrived(advertiser_id: int, currency: str, notice: Notice | None = None) -> None:
    _announce(FundsChanged(advertiser_id, currency, arrived=True, notice=notice))


def funds_taken_back(advertiser_id: int, currency: str, notice: Notice | None = None) -> None:
    _announce(FundsChanged(advertiser_id, currency, arrived=False, notice=notice))


def _announce(event: FundsChanged) -> None:
    for listener in current_app.extensions.get(_LISTENERS, ()):
        listener(event)
