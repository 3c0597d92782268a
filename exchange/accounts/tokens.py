"""The links mailed to a user: one that confirms its address, one that sets a new password.

Each is signed with the app's secret (itsdangerous), dated, and tied to what it acts on: a
confirmation to the address it was sent to (a link for an old address does nothing), a
reset to the password it replaces (once the password is changed, every older reset link is
dead). Nothing is stored."""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from exchange import clock
from exchange.accounts.models import User
from exchange.extensions import db


@dataclass(frozen=True)
class Purpose:
    salt: str
    max_age_seconds: int


CONFIRM_EMAIL = Purpose("confirm-email", 3 * 86400)
RESET_PASSWORD = Purpose("reset-password", 3600)


class BadLink(Exception):
    """A link that is not ours, was changed, is for something done since, or is too old."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def link_token(user: User, purpose: Purpose) -> str:
    return _serializer(purpose).dumps([user.id, _fingerprint(user, purpose)])


def user_of(token: str, purpose: Purpose) -> User:
    """The user a link was made for, if it still acts on what it was made for."""
    try:
        user_id, fingerprint = _serializer(purpose).loads(token, max_age=purpose.max_age_seconds)
    except SignatureExpired:
        raise BadLink(expired=True) from None
    except (BadSignature, ValueError, TypeError):
        raise BadLink() from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or fingerprint != _fingerprint(user, purpose):
        raise BadLink()
    return user


def _fingerprint(user: User, purpose: Purpose) -> str:
    # the address confirmed; the tail of the password's salted hash replaced
    return user.email if purpose is CONFIRM_EMAIL else user.password_hash[-16:]


class _OnTheAppsClock(TimestampSigner):
    """Links dated, and aged, by the app's clock (``exchange.clock``), as everything else."""

    def get_timestamp(self) -> int:
        return calendar.timegm(clock.now().timetuple())


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose.salt, signer=_OnTheAppsClock)
