"""How disputes end: escalated to the moderators, decided, and the lead and the money
following the decision by themselves.

A decision is applied once: the dispute's row is locked (after its lead's), and a
dispute already resolved is answered as it is, never decided a second time. Its
effects run in the same transaction as the decision, so the decision, the lead's move,
the ledger's transfers, the audit row and the notifications are written together or
not at all.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from exchange import clock
from exchange.actors import Actor
from exchange.disputes import domain
from exchange.disputes.access import add_message, lock_dispute
from exchange.disputes.domain import APPEAL, AWAITING_ANSWER, ESCALATED, RESOLVED
from exchange.disputes.models import Dispute
from exchange.disputes.subjects import subject_of
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.decisions import reinstate_lead, return_lead
from exchange.moderation.audit import services as audit
from exchange.notifications.services import notify

KIND_NAMES = {APPEAL: "appeal", domain.RETURN: "return request", domain.SALE_RETURN: "sale return"}


def decide_dispute(actor: Actor, dispute_id: int, outcome: str, reason: str) -> Dispute:
    """A moderator upholds or overturns what the advertiser did. Deciding again the same
    way changes nothing; deciding otherwise is refused."""
    dispute = lock_dispute(dispute_id)
    if dispute.status == RESOLVED:
        if dispute.outcome == outcome and dispute.decided_by == "moderator":
            return dispute  # the same decision again: nothing more happens
        by = {"moderator": "a moderator", "party": "the other party's concession", "rule": "the offer's rule"}
        raise Conflict(
            f"The dispute was already decided by {by[dispute.decided_by]}: {dispute.outcome}.",
            code="dispute_already_decided",
        )
    if dispute.status != ESCALATED:
        raise Conflict(
            f"The dispute is {dispute.status.replace('_', ' ')}: moderators decide escalated disputes.",
            code=f"dispute_{dispute.status}",
        )
    resolve(dispute, outcome, "moderator", actor, reason)
    return dispute


def resolve(dispute: Dispute, outcome: str, decided_by: str, actor: Actor, reason: str) -> None:
    """Close the dispute with ``outcome`` and apply what it means for the lead and the money."""
    now = clock.now()
    dispute.status = domain.next_status(dispute.status, "decide" if decided_by == "moderator" else "concede")
    dispute.outcome, dispute.decided_by, dispute.decision_reason = outcome, decided_by, reason
    dispute.decided_by_user_id = actor.user_id
    dispute.resolved_at = dispute.updated_at = now
    db.session.flush()
    note = f"{KIND_NAMES[dispute.kind]} {dispute.id} {outcome}: {reason}"
    if domain.moves_money(dispute.kind, outcome):
        if dispute.kind == APPEAL:
            reinstate_lead(dispute.lead_id, actor, note)
        elif dispute.kind == domain.RETURN:
            return_lead(dispute.lead_id, actor, note, asked_at=dispute.created_at)
        else:
            subject_of(dispute.kind).settle(dispute, actor, note)
    if decided_by != "party":
        audit.record(
            actor,
            "decide_dispute",
            "dispute",
            dispute.id,
            reason,
            outcome=outcome,
            kind=dispute.kind,
            lead_id=dispute.lead_id,
            decided_by=decided_by,
        )
    add_message(dispute, None, "system", f"Decided ({decided_by}): {outcome}. {reason}")
    winner = domain.winner(outcome)
    for party, user_id in (("advertiser", dispute.advertiser_id), ("webmaster", dispute.webmaster_id)):
        result = "won" if party == winner else "lost"
        notify(
            user_id,
            "dispute_resolved",
            f"Your {KIND_NAMES[dispute.kind]} {dispute.id} on lead {dispute.lead_id} was {outcome}: "
            f"you {result}. {reason}",
            dispute_id=dispute.id,
            lead_id=dispute.lead_id,
            outcome=outcome,
            result=result,
        )


def escalate(dispute: Dispute, because: str) -> None:
    """To the moderators' queue: contested by the counterparty, or not answered in time."""
    now = clock.now()
    dispute.status = domain.next_status(dispute.status, "contest" if because == "contested" else "escalate")
    dispute.escalated_at = dispute.updated_at = now
    dispute.escalated_because = because
    dispute.decide_by = now + timedelta(seconds=current_app.config["MODERATION_DECISION_SECONDS"])
    why = "Contested" if because == "contested" else "No answer in time"
    add_message(dispute, None, "system", f"{why}: sent to the moderators.")
    for user_id in (dispute.advertiser_id, dispute.webmaster_id):
        notify(
            user_id,
            "dispute_escalated",
            f"The {KIND_NAMES[dispute.kind]} {dispute.id} on lead {dispute.lead_id} went to the moderators "
            f"({because.replace('_', ' ')}); they decide by {dispute.decide_by:%Y-%m-%d %H:%M} UTC.",
            dispute_id=dispute.id,
        )
    db.session.flush()


def overdue_dispute_ids() -> list[int]:
    """Disputes whose counterparty did not answer in time."""
    return list(
        db.session.scalars(
            select(Dispute.id)
            .where(Dispute.status == AWAITING_ANSWER, Dispute.answer_due_at <= clock.now())
            .order_by(Dispute.answer_due_at, Dispute.id)
        )
    )


def escalate_if_overdue(dispute_id: int) -> bool:
    """The sweep's step for one dispute; False when it was answered or withdrawn meanwhile."""
    dispute = lock_dispute(dispute_id)
    if dispute.status != AWAITING_ANSWER or dispute.answer_due_at > clock.now():
        return False
    escalate(dispute, "no_answer")
    return True
