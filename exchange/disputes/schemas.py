"""What the API accepts and shows for disputes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate
from marshmallow import fields as ma

from exchange import clock
from exchange.bounds import MAX_ID
from exchange.disputes.domain import (
    APPEAL_REASONS,
    AWAITING_ANSWER,
    ESCALATED,
    KINDS,
    RETURN_REASONS,
    STATUSES,
    seconds_left,
    winner,
)
from exchange.pagination import PageQuerySchema, page_schema
from exchange.schema_fields import UtcDateTime

ALL_REASONS = sorted(set(APPEAL_REASONS) | set(RETURN_REASONS))  # a sale return has its own schema


def text(max_length: int, **kwargs) -> ma.String:
    """Written words: at most ``max_length`` characters, and not only blanks."""
    metadata = {"pattern": r"\S"} | kwargs.pop("metadata", {})
    return ma.String(
        validate=[validate.Length(min=1, max=max_length), _not_blank], metadata=metadata, **kwargs
    )


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Write something: blanks are not a statement.")


class DisputeOpenSchema(Schema):
    lead_id = ma.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    reason = ma.String(
        required=True,
        validate=validate.OneOf(ALL_REASONS),
        metadata={"description": "From the list for the dispute's kind: GET /api/v1/disputes/reasons."},
    )
    statement = text(4000, required=True)


class AnswerSchema(Schema):
    accept = ma.Boolean(
        required=True, metadata={"description": "true: concede (the claim is granted); false: contest."}
    )
    statement = text(4000, load_default=None)


class MessageSchema(Schema):
    body = text(4000, required=True)


class DisputeDecisionSchema(Schema):
    decision = ma.String(
        required=True,
        validate=validate.OneOf(["uphold", "overturn"]),
        metadata={
            "description": "uphold: the advertiser's rejection or return stands; overturn: it is undone."
        },
    )
    reason = text(2000, required=True)


class DisputeQuerySchema(PageQuerySchema):
    status = ma.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = ma.String(load_default=None, validate=validate.OneOf(KINDS))
    lead_id = ma.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class QueueQuerySchema(PageQuerySchema):
    status = ma.String(load_default=ESCALATED, validate=validate.OneOf([ESCALATED, AWAITING_ANSWER]))


class MessageViewSchema(Schema):
    id = ma.Integer()
    author_id = ma.Integer(allow_none=True)
    author_role = ma.String()
    body = ma.String()
    created_at = UtcDateTime()


class DisputeViewSchema(Schema):
    id = ma.Integer()
    lead_id = ma.Integer()
    sale_id = ma.Integer(allow_none=True, metadata={"description": "A sale return's sale; null otherwise."})
    kind = ma.String()
    status = ma.String()
    reason = ma.String()
    statement = ma.String()
    advertiser_id = ma.Integer()
    webmaster_id = ma.Integer()
    opened_by_id = ma.Integer()
    answer_due_at = UtcDateTime()
    escalated_at = UtcDateTime(allow_none=True)
    escalated_because = ma.String(allow_none=True)
    decide_by = UtcDateTime(allow_none=True)
    seconds_left = ma.Method(
        "_seconds_left",
        metadata={
            "description": "Until the answer is due (awaiting_answer) or the moderators' deadline "
            "(escalated); negative once passed; null otherwise."
        },
    )
    outcome = ma.String(allow_none=True)
    winner = ma.Method("_winner", metadata={"description": "advertiser or webmaster, once resolved."})
    decided_by = ma.String(allow_none=True)
    decision_reason = ma.String(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()

    def _seconds_left(self, dispute) -> int | None:
        deadline = {AWAITING_ANSWER: dispute.answer_due_at, ESCALATED: dispute.decide_by}.get(dispute.status)
        return seconds_left(deadline, clock.now()) if deadline else None

    def _winner(self, dispute) -> str | None:
        return winner(dispute.outcome) if dispute.outcome else None


class DisputeWithThreadSchema(DisputeViewSchema):
    messages = ma.List(ma.Nested(MessageViewSchema))


DisputePageSchema = page_schema(DisputeViewSchema)


def _reasons(kind: str, **kwargs) -> ma.Dict:
    return ma.Dict(
        keys=ma.String(),
        values=ma.String(),
        metadata={"description": f"Each {kind} reason, with what it means."},
        **kwargs,
    )


class DisputeReasonsSchema(Schema):
    appeal = _reasons("appeal")
    return_ = _reasons("return", data_key="return")
    sale_return = _reasons("sale return (POST /api/v1/sales/{id}/return)")


class EvidenceSchema(Schema):
    """What GET /moderation/disputes/{id}/evidence answers (documented; the view writes it)."""

    dispute = ma.Nested(DisputeViewSchema)
    thread = ma.List(ma.Nested(MessageViewSchema))
    lead = ma.Dict(metadata={"description": "The lead's facts and its offer's name."})
    lead_events = ma.List(ma.Dict(), metadata={"description": "The lead's history, oldest first."})
    click = ma.Dict(allow_none=True, metadata={"description": "The click the lead came from."})
    consent = ma.Dict(allow_none=True, metadata={"description": "The consent the person gave."})
    delivery = ma.Dict(allow_none=True, metadata={"description": "The delivery to the advertiser."})
    history = ma.Dict(metadata={"description": "The two parties' dispute records."})
    sale = ma.Dict(
        allow_none=True,
        metadata={"description": "A sale return's sale: prices, status, post to the buyer; null otherwise."},
    )
