"""Users and API keys. Services flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from exchange import clock
from exchange.accounts.domain import ROLES, USER_STATUSES, generate_key, key_matches, split_key
from exchange.accounts.models import ApiKey, User, new_session_token
from exchange.accounts.passwords import password_problem
from exchange.errors import Conflict, Invalid, NotFound, Unauthorized
from exchange.extensions import db


def create_user(
    email: str,
    name: str,
    role: str,
    password: str,
    *,
    status: str | None = None,
    company_name: str | None = None,
    confirmed: bool = True,
) -> User:
    """``status`` None: a webmaster starts pending when WEBMASTER_APPROVAL is "moderator"
    (a moderator approves it, docs/moderation.md), active when it is "auto"; others active.
    ``confirmed`` False: its address waits for the link mailed to it (self-service sign-up)."""
    email = email.strip().lower()
    problems = {}
    if role not in ROLES:
        problems["role"] = [f"Must be one of {', '.join(ROLES)}."]
    if status is not None and status not in USER_STATUSES:
        problems["status"] = [f"Must be one of {', '.join(USER_STATUSES)}."]
    if "@" not in email:
        problems["email"] = ["Not a valid email address."]
    if problem := password_problem(password):
        problems["password"] = [problem]
    if problems:
        raise Invalid("The user is not valid.", fields=problems)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with email {email} exists.", code="user_exists")
    if status is None:
        moderated = role == "webmaster" and current_app.config["WEBMASTER_APPROVAL"] == "moderator"
        status = "pending" if moderated else "active"
    user = User(
        email=email,
        name=name or email,
        role=role,
        password_hash=generate_password_hash(password),
        status=status,
        company_name=company_name or None,
        email_confirmed_at=clock.now() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user_id: int, password: str) -> User:
    """A new password: every session of the user ends (``end_sessions``)."""
    if problem := password_problem(password):
        raise Invalid("The password is not valid.", fields={"password": [problem]})
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    user.password_hash = generate_password_hash(password)
    end_sessions(user_id)
    return user


def end_sessions(user_id: int) -> None:
    """End every session of the user at once: each carries its token, replaced here."""
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_token=new_session_token())
        .execution_options(synchronize_session="fetch")
    )


def session_token_of(user: User) -> str:
    """The token a new session of ``user`` carries (made for a user who has none yet)."""
    if not user.session_token:
        user.session_token = new_session_token()
        db.session.flush()
    return user.session_token


_NOBODY_HASH = generate_password_hash("no-such-user")


def authenticate_password(email: str, password: str) -> User | None:
    """The user for these credentials, or None. An unknown email costs the
    same hash as a known one, so timing does not tell which emails exist."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    matches = check_password_hash(user.password_hash if user else _NOBODY_HASH, password)
    if user is None or not matches or not user.is_active_user:
        return None
    return user


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def create_api_key(user_id: int, name: str) -> IssuedKey:
    if db.session.get(User, user_id) is None:
        raise NotFound("No such user.")
    new = generate_key()
    key = ApiKey(user_id=user_id, name=name or "API key", prefix=new.prefix, key_hash=new.digest)
    db.session.add(key)
    db.session.flush()
    return IssuedKey(key=key, secret=new.full)


def revoke_api_key(user_id: int, key_id: int) -> ApiKey:
    key = db.session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    if key is None:
        raise NotFound("No such API key.")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        db.session.flush()
    return key


def user_for_api_key(full_key: str) -> tuple[User, ApiKey]:
    prefix = split_key(full_key)
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    if key is None or not key_matches(full_key, key.key_hash):
        raise Unauthorized("The API key is not valid.", code="invalid_api_key")
    if key.revoked_at is not None:
        raise Unauthorized("The API key was revoked.", code="revoked_api_key")
    if not key.user.is_active_user:
        raise Unauthorized("The account is disabled.", code="account_disabled")
    return key.user, key
