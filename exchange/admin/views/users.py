"""The admins' users page: everyone with their role and status, filtered by role; a new
user; an account switched off (signed out at its next request, its API keys refused)
or back on, with the reason in the moderators' audit log."""

from __future__ import annotations

from flask import render_template, request, url_for
from sqlalchemy import select, update

from exchange.accounts.domain import ROLES
from exchange.accounts.models import User
from exchange.accounts.services import create_user, end_sessions
from exchange.accounts.views import role_required
from exchange.actors import Actor
from exchange.admin.views.common import acted, admin_actor, bp, refused
from exchange.errors import Conflict, Invalid, NotFound
from exchange.extensions import db
from exchange.moderation.audit import services as audit

LISTED = 500
REASON_MAX = 500


def set_user_active(actor: Actor, user_id: int, active: bool, reason: str) -> User:
    """Deactivate or reactivate a user, once: the conditional update moves it from the
    other state; already there is no second effect and no second audit row. Flushes."""
    reason = reason.strip()[:REASON_MAX]
    if not reason:
        raise Invalid("Say why.", fields={"reason": ["Required."]})
    if not active and actor.user_id == user_id:
        raise Conflict("You cannot deactivate yourself.", code="own_account")
    user = db.session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound("No such user.")
    changed = db.session.execute(
        update(User)
        .where(User.id == user_id, User.is_active_user.is_(not active))
        .values(is_active_user=active)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if changed:
        if not active:
            end_sessions(user_id)
        action = "reactivate_user" if active else "deactivate_user"
        audit.record(actor, action, "user", user_id, reason, role=user.role, email=user.email)
        db.session.flush()
    return user


@bp.get("/admin/users")
@role_required("admin")
def users():
    role = request.args.get("role") or ""
    query = select(User).order_by(User.id.desc()).limit(LISTED)
    if role in ROLES:
        query = query.where(User.role == role)
    return render_template(
        "admin_users.html", users=db.session.scalars(query).all(), roles=ROLES, role=role, listed=LISTED
    )


@bp.post("/admin/users")
@role_required("admin")
def new_user():
    form = request.form
    email, role = (form.get("email") or "").strip(), form.get("role") or ""
    back = url_for(".users")
    if len(email) > 254 or len(form.get("name") or "") > 120:
        return refused("the email is at most 254 characters, the name 120.", back)
    return acted(
        lambda: create_user(email, (form.get("name") or "").strip(), role, form.get("password") or ""),
        lambda user: f"User {user.id} created: {user.email} ({user.role}, {user.status}).",
        back,
    )


@bp.post("/admin/users/<id:user_id>/<any(deactivate, reactivate):move>")
@role_required("admin")
def user_move(user_id: int, move: str):
    reason = request.form.get("reason") or ""
    return acted(
        lambda: set_user_active(admin_actor(), user_id, move == "reactivate", reason),
        f"User {user_id}: {move}d.",
        url_for(".users", role=request.args.get("role") or None),
    )
