"""Partner moderation: approving new webmasters, banning and unbanning them.

Each action moves ``users.status`` with a conditional update (``WHERE status = :seen``),
so two moderators acting at once, or one acting twice, have one effect; it writes its
audit row and the webmaster's notification in the caller's transaction. Services flush;
the caller commits, then forgets the webmaster's cached links (``exchange.tracking.links``).
"""

from __future__ import annotations

from sqlalchemy import Select, func, select, update

from exchange import clock
from exchange.accounts.models import User
from exchange.accounts.services import end_sessions
from exchange.actors import Actor
from exchange.errors import Conflict, Forbidden, Invalid, NotFound
from exchange.extensions import db
from exchange.moderation.audit import services as audit
from exchange.moderation.partners.domain import IllegalMove, next_status, refusal
from exchange.notifications.services import notify

REASON_MAX = 500

NOTICES = {
    "approve": ("account_approved", "Your account was approved: you can join offers and send traffic."),
    "ban": ("account_banned", "Your account was banned: your links and leads are stopped."),
    "unban": ("account_unbanned", "Your account was unbanned: you can send traffic again."),
}


def approve_webmaster(moderator_actor: Actor, user_id: int, reason: str | None = None) -> User:
    return _move(moderator_actor, user_id, "approve", _reason(reason, required=False))


def ban_webmaster(actor: Actor, user_id: int, reason: str) -> User:
    return _move(actor, user_id, "ban", _reason(reason, required=True))


def unban_webmaster(actor: Actor, user_id: int, reason: str) -> User:
    return _move(actor, user_id, "unban", _reason(reason, required=True))


def pending_webmasters() -> list[User]:
    """Webmasters waiting for approval, oldest first."""
    return list(db.session.scalars(webmasters_with_status("pending")))


def webmasters_with_status(status: str) -> Select:
    """Pending: oldest first (the approval queue). Active, banned: latest change first."""
    query = select(User).where(User.role == "webmaster", User.status == status)
    if status == "pending":
        return query.order_by(User.created_at, User.id)
    since = func.coalesce(User.status_changed_at, User.created_at)
    return query.order_by(since.desc(), User.id.desc())


def require_good_standing(user_id: int) -> None:
    """Refuse (403 ``account_pending`` / ``account_banned``) a webmaster that may not send traffic."""
    user = db.session.get(User, user_id)
    refused = refusal(user.status, user.status_reason) if user is not None else None
    if refused is not None:
        raise Forbidden(refused.message, code=refused.code)


def in_good_standing(user_id: int) -> bool:
    user = db.session.get(User, user_id)
    return user is not None and refusal(user.status, user.status_reason) is None


def _move(actor: Actor, user_id: int, action: str, reason: str | None) -> User:
    user = _webmaster(user_id)
    seen = user.status
    target = _target(seen, action)
    if target == seen:
        return user  # done already: no second effect, no second audit row
    changed = db.session.execute(
        update(User)
        .where(User.id == user_id, User.status == seen)
        .values(status=target, status_reason=reason, status_changed_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if not changed:  # someone else moved it between our read and our update
        if user.status == target:
            return user
        raise Conflict(f"The webmaster became {user.status} meanwhile; look again.", code="status_changed")
    if target == "banned":
        end_sessions(user_id)  # every session of the webmaster ends at once
    audit.record(actor, f"{action}_webmaster", "user", user_id, reason, from_status=seen, to_status=target)
    kind, message = NOTICES[action]
    notify(user_id, kind, message + (f" Reason: {reason}" if reason else ""), reason=reason)
    db.session.flush()
    return user


def _webmaster(user_id: int) -> User:
    user = db.session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound("No such user.")
    if user.role != "webmaster":
        raise Conflict(
            f"Only webmasters are approved or banned here; user {user_id} is a {user.role}.",
            code="not_a_webmaster",
        )
    return user


def _target(status: str, action: str) -> str:
    try:
        return next_status(status, action)
    except IllegalMove as error:
        raise Conflict(str(error), code="illegal_status_change") from None


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise Invalid("Say why.", fields={"reason": ["Required: say why (1 to 500 characters)."]})
    if len(text) > REASON_MAX:
        raise Invalid("The reason is too long.", fields={"reason": [f"At most {REASON_MAX} characters."]})
    return text or None
