"""Recording what moderators do (and the rules that act for them), append-only.
Services call ``record`` inside their transaction, so an action and its audit row are
written together or not at all."""

from __future__ import annotations

from exchange.actors import Actor
from exchange.extensions import db
from exchange.moderation.audit.models import ModerationAction


def record(
    actor: Actor, action: str, subject_type: str, subject_id: int, reason: str | None = None, **data: object
) -> ModerationAction:
    entry = ModerationAction(
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:80],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason[:2000] if reason else None,
        data=data,
    )
    db.session.add(entry)
    return entry
