"""Disputes over the API: open, answer, talk, withdraw; moderators decide (docs/disputes.md)."""

from __future__ import annotations

from sqlalchemy import or_, select

from exchange.accounts.auth import actor, api_key_required, caller
from exchange.db import commit
from exchange.disputes import domain
from exchange.disputes.access import visible_to
from exchange.disputes.evidence import evidence_for, thread_of
from exchange.disputes.models import Dispute
from exchange.disputes.resolution import decide_dispute
from exchange.disputes.schemas import (
    AnswerSchema,
    DisputeDecisionSchema,
    DisputeOpenSchema,
    DisputePageSchema,
    DisputeQuerySchema,
    DisputeReasonsSchema,
    DisputeWithThreadSchema,
    EvidenceSchema,
    MessageSchema,
    MessageViewSchema,
    QueueQuerySchema,
)
from exchange.disputes.services import answer_dispute, open_dispute, post_message, withdraw_dispute
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.openapi import Blueprint
from exchange.pagination import paginate

blp = Blueprint("disputes", __name__, url_prefix="/api/v1", description="Disputes: appeals and returns")
PARTIES = ("advertiser", "webmaster")
MODERATORS = ("moderator", "admin")
OUTCOMES = {"uphold": domain.UPHELD, "overturn": domain.OVERTURNED}


@blp.route("/disputes/reasons", methods=["GET"])
@api_key_required()
@blp.response(200, DisputeReasonsSchema)
def reasons():
    """The reasons each kind of dispute may give, with what they mean."""
    return {
        "appeal": domain.APPEAL_REASONS,
        "return": domain.RETURN_REASONS,
        "sale_return": domain.SALE_RETURN_REASONS,
    }


@blp.route("/disputes", methods=["POST"])
@api_key_required(*PARTIES)
@blp.arguments(DisputeOpenSchema)
@blp.response(201, DisputeWithThreadSchema)
def post_dispute(data: dict):
    """A webmaster appeals a rejected lead; an advertiser asks to return an approved lead."""
    dispute = open_dispute(caller(), actor(), data["lead_id"], data["reason"], data["statement"])
    commit()
    return with_thread(dispute)


@blp.route("/disputes", methods=["GET"])
@api_key_required()
@blp.arguments(DisputeQuerySchema, location="query")
@blp.response(200, DisputePageSchema)
def list_disputes(args: dict):
    """Your disputes (a moderator: all), newest first."""
    user = caller()
    query = select(Dispute).order_by(Dispute.id.desc())
    if user.role not in MODERATORS:
        query = query.where(or_(Dispute.advertiser_id == user.id, Dispute.webmaster_id == user.id))
    for name in ("status", "kind", "lead_id"):
        if args.get(name) is not None:
            query = query.where(getattr(Dispute, name) == args[name])
    return paginate(query, args["page"], args["per_page"])


@blp.route("/disputes/<id:dispute_id>", methods=["GET"])
@api_key_required()
@blp.response(200, DisputeWithThreadSchema)
def get_dispute(dispute_id: int):
    return with_thread(_visible(dispute_id))


@blp.route("/disputes/<id:dispute_id>/messages", methods=["GET"])
@api_key_required()
@blp.response(200, MessageViewSchema(many=True))
def list_messages(dispute_id: int):
    return thread_of(_visible(dispute_id).id)


@blp.route("/disputes/<id:dispute_id>/messages", methods=["POST"])
@api_key_required()
@blp.arguments(MessageSchema)
@blp.response(201, MessageViewSchema)
def post_dispute_message(data: dict, dispute_id: int):
    message = post_message(caller(), dispute_id, data["body"])
    commit()
    return message


@blp.route("/disputes/<id:dispute_id>/answer", methods=["POST"])
@api_key_required(*PARTIES)
@blp.arguments(AnswerSchema)
@blp.response(200, DisputeWithThreadSchema)
def answer(data: dict, dispute_id: int):
    """The other party concedes or contests, before its answer is due."""
    dispute = answer_dispute(caller(), actor(), dispute_id, data["accept"], data["statement"])
    commit()
    return with_thread(dispute)


@blp.route("/disputes/<id:dispute_id>/withdraw", methods=["POST"])
@api_key_required(*PARTIES)
@blp.response(200, DisputeWithThreadSchema)
def withdraw(dispute_id: int):
    dispute = withdraw_dispute(caller(), dispute_id)
    commit()
    return with_thread(dispute)


@blp.route("/disputes/<id:dispute_id>/resolve", methods=["POST"])
@api_key_required(*MODERATORS)
@blp.arguments(DisputeDecisionSchema)
@blp.response(200, DisputeWithThreadSchema)
def resolve(data: dict, dispute_id: int):
    """A moderator's decision on an escalated dispute; its effects on the lead and the money
    follow by themselves. The same decision sent again changes nothing."""
    dispute = decide_dispute(actor(), dispute_id, OUTCOMES[data["decision"]], data["reason"])
    commit()
    return with_thread(dispute)


@blp.route("/moderation/disputes", methods=["GET"])
@api_key_required(*MODERATORS)
@blp.arguments(QueueQuerySchema, location="query")
@blp.response(200, DisputePageSchema)
def queue(args: dict):
    """The moderators' queue: escalated disputes, oldest first, with the time left to decide
    (``status=awaiting_answer``: those still waiting for an answer, soonest due first)."""
    due = Dispute.escalated_at if args["status"] == domain.ESCALATED else Dispute.answer_due_at
    query = select(Dispute).where(Dispute.status == args["status"]).order_by(due, Dispute.id)
    return paginate(query, args["page"], args["per_page"])


@blp.route("/moderation/disputes/<id:dispute_id>/evidence", methods=["GET"])
@api_key_required(*MODERATORS)
@blp.alt_response(200, schema=EvidenceSchema, success=True)
def evidence(dispute_id: int):
    """Everything about the dispute's lead and its parties, in one answer."""
    return evidence_for(_visible(dispute_id))


def _visible(dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not visible_to(dispute, caller()):
        raise NotFound("No such dispute.")
    return dispute


def with_thread(dispute: Dispute) -> Dispute:
    db.session.refresh(dispute)  # its thread as written (DisputeWithThreadSchema reads .messages)
    return dispute
