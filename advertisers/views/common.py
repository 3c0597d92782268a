"""What the advertiser's pages share: the blueprint, who acts, and how an action ends.

Pages only translate: they call the same services as the API, commit once, and answer
a refused action with the service's message (a button: POST, then a redirect, so that
reloading never repeats an action; a form: the form again with its field messages, 422)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect
from flask_login import current_user

from billing.domain import LedgerError
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import AppError

bp = Blueprint("advertiser_portal", __name__, url_prefix="/advertiser")


def web_actor() -> Actor:
    """The signed-in advertiser, as the lead events and the audit log record it."""
    return Actor(kind="user", user_id=current_user.id, label=current_user.email)


def refusal_text(refused: AppError) -> str:
    problems = "; ".join(
        str(message) for messages in refused.fields.values() for message in _listed(messages)
    )
    return f"{refused.message} {problems}".strip()


def _listed(messages: object) -> list:
    return messages if isinstance(messages, list) else [messages]


def acted(action: Callable[[], object], done: str, back: str):
    """Run one action and commit it; on a refusal, roll back and say why. Then go ``back``."""
    try:
        action()
        commit()
        flash(done, "notice")
    except (AppError, LedgerError) as refused:
        rollback()
        message = refusal_text(refused) if isinstance(refused, AppError) else str(refused)
        flash(f"Not done: {message}")
    return redirect(back, code=303)
