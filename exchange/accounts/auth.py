"""Who is calling: API keys for the API, sessions for the web."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from exchange.accounts.domain import split_key
from exchange.accounts.models import User
from exchange.accounts.services import user_for_api_key
from exchange.actors import Actor
from exchange.errors import Forbidden, Unauthorized
from exchange.extensions import db, login_manager
from exchange.rate_limits import client_address, limit


def api_key_required(*roles: str) -> Callable:
    """Authenticate ``Authorization: Bearer <key>``; restrict to ``roles`` if given."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "Send your API key as 'Authorization: Bearer <key>'.", code="missing_api_key"
                )
            user, key = user_for_api_key(token.strip())
            if roles and user.role not in roles:
                raise Forbidden(f"This endpoint is for {' or '.join(roles)} accounts.", code="wrong_role")
            g.caller = user
            g.actor = Actor(kind="api_key", user_id=user.id, api_key_id=key.id, label=key.prefix)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def api_key_identity() -> str:
    """The key's public prefix (never its secret); a caller without a well-formed key, its address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    prefix = split_key(token.strip()) if scheme.lower() == "bearer" else None
    return f"key:{prefix}" if prefix else f"address:{client_address()}"


def calling_user() -> str:
    return f"user:{g.caller.id}"


# Every API blueprint counts its calls per key (create_app); views that take leads count
# them per webmaster too, under ``api_key_required`` (the caller is known there).
api_per_key = limit("LIMIT_API_PER_KEY", api_key_identity)
lead_intake_per_webmaster = limit("LIMIT_LEAD_INTAKE_PER_WEBMASTER", calling_user, override_defaults=False)


def caller() -> User:
    return g.caller


def actor() -> Actor:
    return g.actor


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user (``User.get_id``: its id and session token), unless the token was
    replaced since (``end_sessions``) or the user is deactivated."""
    user_id, _, token = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active_user or not token or token != user.session_token:
        return None
    return user
