"""The moderators' pages: the dispute queue with its deadlines, a dispute's evidence and
decision, partner approvals and bans, the fraud review queue, reputation, the audit log.

Pages only translate: they call the same services as the API, commit once, and answer
a refused action with the service's message on the page it came from (POST, then a
redirect: reloading never repeats an action)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from exchange import clock
from exchange.accounts.models import User
from exchange.accounts.views import role_required
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.disputes import domain
from exchange.disputes.evidence import evidence_for
from exchange.disputes.models import Dispute
from exchange.disputes.resolution import decide_dispute
from exchange.disputes.services import post_message
from exchange.disputes.words import WORDS
from exchange.errors import AppError, NotFound
from exchange.extensions import db
from exchange.leads.domain import REVIEW
from exchange.leads.models import Lead, LeadEvent
from exchange.moderation.audit.api import audit_csv_response, filtered_actions
from exchange.moderation.fraud_review import services as fraud_review
from exchange.moderation.partners import services as partners
from exchange.moderation.reputation.services import ALL_TIME, reputation_page

bp = Blueprint("moderator_portal", __name__, url_prefix="/moderator")
STAFF = ("moderator", "admin")
OUTCOMES = {"uphold": domain.UPHELD, "overturn": domain.OVERTURNED}


def staff_actor() -> Actor:
    return Actor(kind="user", user_id=current_user.id, label=current_user.email)


def acted(action: Callable[[], object], done: str, back: str):
    """Run one action and commit it; on a refusal, roll back and say why. Then go ``back``."""
    try:
        action()
        commit()
        flash(done)
    except AppError as refused:
        rollback()
        problems = "; ".join(message for messages in refused.fields.values() for message in messages)
        flash(f"Not done: {refused.message} {problems}".strip())
    return redirect(back, code=303)


@bp.get("/")
@role_required(*STAFF)
def home():
    """The dispute queue: escalated disputes, oldest first, with the time left to decide."""
    queue = db.session.scalars(
        select(Dispute).where(Dispute.status == domain.ESCALATED).order_by(Dispute.escalated_at, Dispute.id)
    ).all()
    awaiting = db.session.scalars(
        select(Dispute)
        .where(Dispute.status == domain.AWAITING_ANSWER)
        .order_by(Dispute.answer_due_at, Dispute.id)
        .limit(100)
    ).all()
    counts = {
        "pending_webmasters": _count(select(User).where(User.role == "webmaster", User.status == "pending")),
        "fraud_reviews": _count(select(Lead).where(Lead.status == REVIEW)),
    }
    return render_template(
        "moderator_home.html", queue=queue, awaiting=awaiting, counts=counts, now=clock.now(), left=_left
    )


@bp.get("/disputes/<id:dispute_id>")
@role_required(*STAFF)
def dispute(dispute_id: int):
    found = db.session.get(Dispute, dispute_id)
    if found is None:
        raise NotFound("No such dispute.")
    return render_template(
        "moderator_dispute.html",
        evidence=evidence_for(found),
        dispute=found,
        reasons=domain.REASONS[found.kind],
        kind_words=WORDS,
    )


@bp.post("/disputes/<id:dispute_id>/decide")
@role_required(*STAFF)
def decide(dispute_id: int):
    decision, reason = request.form.get("decision"), (request.form.get("reason") or "").strip()
    back = url_for(".dispute", dispute_id=dispute_id)
    if decision not in OUTCOMES or not reason:
        flash("Not done: choose uphold or overturn, and write the reason for the decision.")
        return redirect(back, code=303)
    return acted(
        lambda: decide_dispute(staff_actor(), dispute_id, OUTCOMES[decision], reason[:2000]),
        f"Dispute {dispute_id}: {OUTCOMES[decision]}.",
        back,
    )


@bp.post("/disputes/<id:dispute_id>/messages")
@role_required(*STAFF)
def message(dispute_id: int):
    body = (request.form.get("body") or "").strip()
    back = url_for(".dispute", dispute_id=dispute_id)
    if not body:
        flash("Not done: the message is empty.")
        return redirect(back, code=303)
    return acted(lambda: post_message(current_user, dispute_id, body[:4000]), "Message posted.", back)


@bp.get("/partners")
@role_required(*STAFF)
def partners_page():
    pending = db.session.scalars(partners.webmasters_with_status("pending").limit(200)).all()
    banned = db.session.scalars(partners.webmasters_with_status("banned").limit(200)).all()
    return render_template("moderator_partners.html", pending=pending, banned=banned)


@bp.post("/partners/<id:user_id>/<any(approve, ban, unban):move>")
@role_required(*STAFF)
def partner_move(user_id: int, move: str):
    service = {
        "approve": partners.approve_webmaster,
        "ban": partners.ban_webmaster,
        "unban": partners.unban_webmaster,
    }[move]
    reason = (request.form.get("reason") or "").strip() or None
    response = acted(
        lambda: service(staff_actor(), user_id, reason),
        f"Webmaster {user_id}: {move} done.",
        url_for(".partners_page"),
    )
    if move == "ban":
        from exchange.tracking.links import forget_webmaster

        forget_webmaster(user_id)  # after the commit: its links stop here at once
    return response


@bp.get("/fraud-reviews")
@role_required(*STAFF)
def fraud_reviews():
    leads = db.session.scalars(fraud_review.review_queue().limit(200)).all()
    return render_template("moderator_fraud.html", leads=leads, now=clock.now())


@bp.post("/fraud-reviews/<id:lead_id>/<any(clear, reject):verdict>")
@role_required(*STAFF)
def fraud_verdict(lead_id: int, verdict: str):
    service = fraud_review.clear_lead if verdict == "clear" else fraud_review.reject_flagged_lead
    reason = request.form.get("reason") or ""
    return acted(
        lambda: service(lead_id, staff_actor(), reason),
        f"Lead {lead_id}: {'cleared' if verdict == 'clear' else 'rejected'}.",
        url_for(".fraud_reviews"),
    )


@bp.get("/reputation")
@role_required(*STAFF)
def reputation():
    sort = request.args.get("sort", "id")
    webmasters = reputation_page(
        "webmaster", ALL_TIME, sort=sort if sort in ("approval_rate", "return_rate") else "id", order="desc"
    )
    advertisers = reputation_page(
        "advertiser", ALL_TIME, sort=sort if sort in ("rejection_rate", "return_rate") else "id", order="desc"
    )
    return render_template("moderator_reputation.html", webmasters=webmasters, advertisers=advertisers)


@bp.get("/audit")
@role_required(*STAFF)
def audit():
    entries = db.session.scalars(filtered_actions({}).limit(200)).all()
    return render_template("moderator_audit.html", entries=entries)


@bp.get("/audit.csv")
@role_required(*STAFF)
def audit_csv():
    return audit_csv_response({})


@bp.get("/lead-events")
@role_required(*STAFF)
def lead_events():
    events = db.session.scalars(select(LeadEvent).order_by(LeadEvent.id.desc()).limit(200)).all()
    return render_template("moderator.html", events=events)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _left(deadline) -> str:
    return domain.time_left(deadline, clock.now())
