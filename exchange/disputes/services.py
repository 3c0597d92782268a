"""Opening disputes and everything the parties do with them: answer, talk, withdraw.

Every service locks the lead's row first, then the dispute's (the lock order of
DESIGN §5, extended: lead, dispute, accounts), so two answers, a decision and the
deadline sweep on one dispute run one after the other and each sees the other's
result. Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.disputes import domain
from exchange.disputes.access import add_message, lock_dispute, party_id
from exchange.disputes.auto_returns import rule_accepts
from exchange.disputes.domain import APPEAL, AWAITING_ANSWER, CLAIMANT, COUNTERPARTY, RETURN
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.disputes.resolution import KIND_NAMES, escalate, resolve
from exchange.errors import Conflict, Forbidden, Invalid, NotFound
from exchange.extensions import db
from exchange.leads.domain import REJECTED
from exchange.leads.models import Lead
from exchange.leads.validation import lock_lead
from exchange.leads.windows import appeal_deadline, return_refusal
from exchange.moderation.audit import services as audit
from exchange.moderation.partners.services import require_good_standing
from exchange.notifications.services import notify
from exchange.offers.models import Offer
from exchange.words import word

RULE = Actor.system("automatic return rule")


def open_dispute(user: User, actor: Actor, lead_id: int, reason: str, statement: str) -> Dispute:
    """A webmaster appeals a rejection; an advertiser asks to return an approved lead."""
    kind = {"webmaster": APPEAL, "advertiser": RETURN}.get(user.role)
    if kind is None:
        raise Forbidden("Only the lead's webmaster or advertiser can open a dispute.", code="wrong_role")
    lead = lock_lead(lead_id)
    if lead is None or party_id(lead, user.role) != user.id:
        raise NotFound("No such lead.")
    if lead.offer_id is None:
        raise Conflict(
            "An exchange lead is disputed by its sales: "
            "its buyer returns a sale (POST /api/v1/sales/{id}/return).",
            code="exchange_lead",
        )
    if kind == APPEAL:
        require_good_standing(user.id)  # a banned webmaster earns nothing more
    if reason not in domain.REASONS[kind]:
        allowed = ", ".join(domain.REASONS[kind])
        raise Invalid(
            "The reason is not one of the list.", fields={"reason": [f"Must be one of: {allowed}."]}
        )
    earlier = db.session.scalar(select(Dispute).where(Dispute.lead_id == lead.id, Dispute.kind == kind))
    if earlier is not None:
        raise Conflict(f"This lead already has {kind} dispute {earlier.id}.", code="dispute_exists")
    offer = db.session.get(Offer, lead.offer_id)
    now = clock.now()
    _check_disputable(kind, lead, now)
    dispute = start_dispute(
        kind,
        lead,
        user,
        reason,
        statement,
        answer_seconds=offer.dispute_answer_seconds,
        parties=(lead.advertiser_id, lead.webmaster_id),
        notify_counterparty=False,
    )
    if kind == RETURN and rule_accepts(offer, lead, reason, now):
        add_message(dispute, None, "system", "Accepted by the offer's automatic return rule.")
        resolve(dispute, domain.UPHELD, "rule", RULE, f"automatic return rule ({reason})")
        return dispute
    _notify_counterparty(dispute)
    return dispute


def start_dispute(
    kind: str,
    lead: Lead,
    user: User,
    reason: str,
    statement: str,
    *,
    answer_seconds: int,
    parties: tuple[int, int],
    sale_id: int | None = None,
    notify_counterparty: bool = True,
) -> Dispute:
    """A dispute written with its opening statement, awaiting the counterparty's answer.
    ``parties``: the advertiser's id, then the webmaster's (a sale's buyer, then its seller).
    The caller holds the lead's lock and checked that the claim may be made."""
    now = clock.now()
    advertiser_id, webmaster_id = parties
    dispute = Dispute(
        lead_id=lead.id,
        sale_id=sale_id,
        kind=kind,
        status=AWAITING_ANSWER,
        advertiser_id=advertiser_id,
        webmaster_id=webmaster_id,
        opened_by_id=user.id,
        reason=reason,
        statement=statement,
        answer_due_at=now + timedelta(seconds=answer_seconds),
        created_at=now,
        updated_at=now,
    )
    db.session.add(dispute)
    db.session.flush()
    add_message(dispute, user.id, user.role, statement)
    if notify_counterparty:
        _notify_counterparty(dispute)
    return dispute


def _notify_counterparty(dispute: Dispute) -> None:
    notify(
        party_id(dispute, COUNTERPARTY[dispute.kind]),
        f"dispute_opened_{dispute.kind}",
        f"New {KIND_NAMES[dispute.kind]} on lead {dispute.lead_id}: "
        f"{word(f'{dispute.kind}_reason', dispute.reason).lower()}; "
        f"answer by {dispute.answer_due_at:%Y-%m-%d %H:%M} UTC.",
        dispute_id=dispute.id,
        lead_id=dispute.lead_id,
    )


def _check_disputable(kind: str, lead: Lead, now: datetime) -> None:
    if kind == RETURN:
        refusal = return_refusal(lead, now)
        if refusal is not None:
            raise refusal
        return
    appealable = (
        lead.status == REJECTED and "advertiser_rejected" in (lead.reason_codes or []) and lead.rate_minor
    )
    if not appealable:
        raise Conflict("Only a lead its advertiser rejected can be appealed.", code="lead_not_appealable")
    if not lead.rejected_at <= now < appeal_deadline(lead):
        raise Conflict("The offer's appeal window for this lead has closed.", code="appeal_window_closed")


def answer_dispute(user: User, actor: Actor, dispute_id: int, accept: bool, statement: str | None) -> Dispute:
    """The counterparty concedes (the claim is granted at once) or contests (the dispute goes
    to the moderators), before its answer is due."""
    dispute = lock_dispute(dispute_id, user)
    if user.role != COUNTERPARTY[dispute.kind]:
        raise Forbidden("Only the other party answers a dispute.", code="not_the_counterparty")
    domain.next_status(dispute.status, "concede" if accept else "contest")  # refuses a closed dispute
    if clock.now() >= dispute.answer_due_at:
        raise Conflict(
            "The time to answer has passed; the moderators will decide.", code="answer_deadline_passed"
        )
    if statement:
        add_message(dispute, user.id, user.role, statement)
    if accept:
        resolve(dispute, domain.outcome_when_conceded(dispute.kind), "party", actor, statement or "conceded")
    else:
        escalate(dispute, "contested")
    return dispute


def post_message(user: User, dispute_id: int, body: str) -> DisputeMessage:
    """Either party, or a moderator, adds to an open dispute's thread."""
    dispute = lock_dispute(dispute_id, user)
    if dispute.status not in domain.OPEN:
        raise Conflict(f"The dispute is {dispute.status}; its thread is closed.", code="dispute_closed")
    message = add_message(dispute, user.id, user.role, body)
    if user.role in ("moderator", "admin"):
        audit.record(
            Actor(kind="user", user_id=user.id, label=user.email),
            "post_dispute_message",
            "dispute",
            dispute.id,
        )
    for role in ("advertiser", "webmaster"):
        if role != user.role:
            notify(
                party_id(dispute, role),
                "dispute_message",
                f"New message in {KIND_NAMES[dispute.kind]} {dispute.id} on lead {dispute.lead_id}.",
                dispute_id=dispute.id,
            )
    return message


def withdraw_dispute(user: User, dispute_id: int) -> Dispute:
    """The claimant gives up; nothing changes on the lead."""
    dispute = lock_dispute(dispute_id, user)
    if user.role != CLAIMANT[dispute.kind]:
        raise Forbidden("Only the party that opened a dispute can withdraw it.", code="not_the_claimant")
    if dispute.status == domain.WITHDRAWN:
        return dispute
    dispute.status = domain.next_status(dispute.status, "withdraw")
    dispute.updated_at = dispute.resolved_at = clock.now()
    add_message(dispute, user.id, user.role, "Withdrawn.")
    counterparty = COUNTERPARTY[dispute.kind]
    notify(
        party_id(dispute, counterparty),
        "dispute_withdrawn",
        f"The {KIND_NAMES[dispute.kind]} {dispute.id} on lead {dispute.lead_id} was withdrawn.",
        dispute_id=dispute.id,
    )
    db.session.flush()
    return dispute
