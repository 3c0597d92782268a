"""Moving a lead between states in the database, exactly once.

Each move is a conditional update (``WHERE id = :id AND status = :from``)
plus a row in the append-only ``lead_events`` log. A zero row count means
another actor moved the lead first; the caller decides whether that is
"already done" or a conflict, and never applies a second effect.

Every event also schedules the webmaster's postback (when it has a postback
URL), and a move to pending the advertiser's lead delivery (when it has an
endpoint), in the same transaction, so a status change and its outbound
calls are written together or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from exchange import clock
from exchange.actors import Actor
from exchange.delivery.lead_delivery import schedule_lead_delivery
from exchange.delivery.services import schedule_postback
from exchange.extensions import db
from exchange.leads.domain import PENDING, next_state
from exchange.leads.models import Lead, LeadEvent


def move(lead: Lead, action: str, actor: Actor, reason: str | None = None, **changes: Any) -> bool:
    """Apply ``action`` to ``lead`` if it is still in the state we loaded."""
    expected = lead.status
    target = next_state(expected, action)
    result = db.session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.status == expected)
        .values(status=target, updated_at=clock.now(), **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(lead)
        return False
    event = _log(lead.id, action, expected, target, actor, reason)
    db.session.refresh(lead)
    schedule_postback(lead, event)
    if target == PENDING:
        schedule_lead_delivery(lead)
    return True


def record_submission(lead: Lead, actor: Actor) -> None:
    event = _log(lead.id, "submit", None, lead.status, actor, None)
    schedule_postback(lead, event)


def _log(
    lead_id: int, action: str, from_status: str | None, to_status: str, actor: Actor, reason: str | None
) -> LeadEvent:
    event = LeadEvent(
        lead_id=lead_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        actor_label=actor.label[:80],
        reason=reason[:500] if reason else None,
    )
    db.session.add(event)
    db.session.flush()
    return event
