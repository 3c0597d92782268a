"""What the webmaster's pages share: the blueprint, the signed-in webmaster as an actor,
a form's messages as plain lists, and running one button's action (commit, or roll back
and say why)."""

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


def flat_messages(problems: object) -> list[str]:
    """marshmallow's messages for one field (a Dict's are nested by key) as a flat list."""
    if isinstance(problems, dict):
        return [message for nested in problems.values() for message in flat_messages(nested)]
    if isinstance(problems, list):
        return [message for item in problems for message in flat_messages(item)]
    return [str(problems)]


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
