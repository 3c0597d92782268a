"""What the webmaster's pages share: the blueprint, the signed-in webmaster as an actor,
and running one button's action (commit, or roll back and say why)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect
from flask_login import current_user

from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import AppError

bp = Blueprint("webmaster_portal", __name__, url_prefix="/webmaster")


def webmaster_actor() -> Actor:
    return Actor(kind="user", user_id=current_user.id, label=current_user.email)


def refusal_text(refused: AppError) -> str:
    """The service's message with its field messages, in one sentence for a flash."""
    problems = "; ".join(message for messages in (refused.fields or {}).values() for message in messages)
    return f"Not done: {refused.message} {problems}".strip()


def acted(action: Callable[[], str], back: str):
    """Run one button's action and commit it, saying what it did (the text it answers);
    on a refusal, roll back and say why. Then go ``back`` (303: reloading repeats nothing)."""
    try:
        done = action()
        commit()
        flash(done, "notice")
    except AppError as refused:
        rollback()
        flash(refusal_text(refused))
    return redirect(back, code=303)
