from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.accounts.domain import ROLES, USER_STATUSES
from exchange.extensions import db

_roles_sql = ", ".join(f"'{role}'" for role in ROLES)
_statuses_sql = ", ".join(f"'{status}'" for status in USER_STATUSES)


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_roles_sql})", name="role"),
        CheckConstraint(f"status IN ({_statuses_sql})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # the display name: a person or a handle
    company_name: Mapped[str | None] = mapped_column(String(200))
    # How its pages are shown: times in this zone (IANA name), in this language (None: the
    # browser's Accept-Language).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    locale: Mapped[str | None] = mapped_column(String(8))
    # Self-service sign-up (docs/accounts.md): None until the address is confirmed by the
    # link mailed to it; set at creation for users an administrator or a command makes.
    email_confirmed_at: Mapped[datetime | None]
    terms_accepted_at: Mapped[datetime | None]
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_user: Mapped[bool] = mapped_column(default=True)
    # Partner moderation (docs/moderation.md): a new webmaster is pending until a moderator
    # approves it; a banned one sends no clicks or leads. Why, and since when.
    status: Mapped[str] = mapped_column(String(12), default="active")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # In every session of the user (``get_id``); replaced to end them all (``end_sessions``).
    session_token: Mapped[str | None] = mapped_column(String(32), default=new_session_token)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_user

    def get_id(self) -> str:  # Flask-Login: what a session remembers of its user
        return f"{self.id}:{self.session_token or ''}"


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = db.relationship()
