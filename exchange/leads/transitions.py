"""Moving a lead between states in the database, exactly once.

Each move is a conditional update (``WHERE id = :id AND status = :from``)
plus a row in the append-only ``lead_events`` log. A zero row count means
another actor moved the lead first; the caller decides whether that is
"already done" or a conflict, and never applies a second effect.

Every event also schedules the webmaster's postback (when it has a postback
URL), and a move to pending the advertiser's lead delivery (when it has an
endpoint), in the same transaction, so a status change and its outbound
calls are written together or not at all.

``apply_moves`` moves many leads whose rows the caller has locked (validation
in batches): the same events and the same outbound calls, in one flush.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from exchange import clock
from exchange.actors import Actor
from exchange.delivery.leads.services import schedule_lead_deliveries
from exchange.delivery.postbacks.services import schedule_postbacks
from exchange.extensions import db
from exchange.leads.domain import PENDING, next_state
from exchange.leads.models import Lead, LeadEvent
from exchange.metrics import LEAD_TRANSITIONS, count_on_commit
from exchange.reports.changes import mark

SUBMITTED_FROM = "new"  # a submitted lead's transition to its first status, in the metrics


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
    event = _event(lead.id, action, expected, target, actor, reason)
    count_on_commit(LEAD_TRANSITIONS, (expected, target))
    db.session.add(event)
    db.session.flush()
    db.session.refresh(lead)
    mark([(lead.created_at, lead.offer_id)])  # the reports' bucket, in the same transaction
    _announce([(lead, event)])
    return True


@dataclass(frozen=True)
class Move:
    lead: Lead
    action: str
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def apply_moves(moves: list[Move], actor: Actor) -> None:
    """Apply each move to a lead whose row the caller holds locked (so no other
    actor can have moved it): its new state and changes, its event, its outbound calls."""
    now = clock.now()
    announced = []
    for planned in moves:
        lead, expected = planned.lead, planned.lead.status
        target = next_state(expected, planned.action)
        for name, value in planned.changes.items():
            setattr(lead, name, value)
        lead.status, lead.updated_at = target, now
        announced.append((lead, _event(lead.id, planned.action, expected, target, actor, planned.reason)))
        count_on_commit(LEAD_TRANSITIONS, (expected, target))
    db.session.add_all(event for _, event in announced)
    db.session.flush()
    mark((lead.created_at, lead.offer_id) for lead, _ in announced)
    _announce(announced)


def record_submission(lead: Lead, actor: Actor) -> None:
    event = _event(lead.id, "submit", None, lead.status, actor, None)
    count_on_commit(LEAD_TRANSITIONS, (SUBMITTED_FROM, lead.status))
    db.session.add(event)
    db.session.flush()
    mark([(lead.created_at, lead.offer_id)])
    schedule_postbacks([(lead, event)])


def _announce(events: list[tuple[Lead, LeadEvent]]) -> None:
    schedule_postbacks(events)
    pending = [lead for lead, event in events if event.to_status == PENDING]
    if pending:
        schedule_lead_deliveries(pending)


def _event(
    lead_id: int, action: str, from_status: str | None, to_status: str, actor: Actor, reason: str | None
) -> LeadEvent:
    return LeadEvent(
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
