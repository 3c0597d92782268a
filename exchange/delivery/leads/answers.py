"""The advertiser's decision in its answer to a delivery (``{"decision": "approve"}`` or a
rejection with its reason, docs/delivery.md), applied to the lead."""

from __future__ import annotations

from exchange.actors import Actor
from exchange.delivery.leads import domain as webhook
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead
from exchange.leads.domain import PENDING
from exchange.leads.validation import lock_lead

DECIDER_LABEL = "delivery response"


def apply_answer(lead_id: int, decision: webhook.Decision) -> str:
    """Decide the lead as the answer asked, in this transaction (the lead's row is locked
    before the delivery's, the order every decision takes); a decision that is no longer
    possible is reported, not raised."""
    lead = lock_lead(lead_id)
    if lead.status != PENDING:
        return f"not applied: the lead is already {lead.status}"
    actor = Actor(kind="user", user_id=lead.advertiser_id, label=DECIDER_LABEL)
    savepoint = db.session.begin_nested()
    try:
        if decision.action == webhook.APPROVE:
            approve_lead(lead_id, actor, note=DECIDER_LABEL)
        else:
            reject_lead(lead_id, actor, note=decision.reason)
    except Conflict as error:
        savepoint.rollback()
        return f"not applied: {error.message}"[: webhook.MAX_REASON_LENGTH]
    savepoint.commit()
    return "applied"
