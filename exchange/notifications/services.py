"""Writing and reading a user's notifications. Services flush; callers commit."""

from __future__ import annotations

from sqlalchemy import select

from billing.events import FundsChanged
from exchange import clock
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.notifications.models import Notification


def notify(user_id: int, kind: str, message: str, **data: object) -> Notification:
    note = Notification(user_id=user_id, kind=kind, message=message[:1000], data=data)
    db.session.add(note)
    return note


def latest_for(user_id: int, limit: int = 20) -> list[Notification]:
    return list(db.session.scalars(notifications_of(user_id).limit(limit)))


def notifications_of(user_id: int):
    """Newest first."""
    return select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc())


def mark_read(user_id: int, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise NotFound("No such notification.")
    if note.read_at is None:
        note.read_at = clock.now()
    return note


def tell_of_money(event: FundsChanged) -> None:
    """Listens to billing's ``FundsChanged``: the advertiser reads what billing said of it."""
    if event.notice is not None:
        notify(event.advertiser_id, event.notice.kind, event.notice.message, **event.notice.data)
