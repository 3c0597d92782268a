"""Who may send traffic: the offer's advertiser (or a moderator) lists,
approves, declines, bans, invites, and sets custom payouts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from exchange.accounts.auth import api_key_required, caller
from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID
from exchange.db import commit
from exchange.money import BPS_WHOLE
from exchange.offers.api import participation_view
from exchange.offers.participation.services import decide, participations_on, set_custom_payout
from exchange.offers.schemas import ParticipationSchema
from exchange.offers.services import invite
from exchange.openapi import Blueprint

blp = Blueprint("participations", __name__, url_prefix="/api/v1", description="Participation")
DECIDERS = ("advertiser", "moderator", "admin")


class DecisionSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class ReasonedDecisionSchema(Schema):
    """Declining and banning say why."""

    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=500), metadata={"pattern": r"\S"}
    )


BODIES = {"approve": DecisionSchema, "decline": ReasonedDecisionSchema, "ban": ReasonedDecisionSchema}


class InviteSchema(Schema):
    webmaster_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))


class CustomPayoutSchema(Schema):
    custom_payout_minor = fields.Integer(
        load_default=None, strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_AMOUNT_MINOR)
    )
    custom_payout_bps = fields.Integer(
        load_default=None, strict=True, allow_none=True, validate=validate.Range(min=1, max=BPS_WHOLE)
    )


@blp.route("/offers/<id:offer_id>/participations", methods=["GET"])
@api_key_required(*DECIDERS)
@blp.response(200, ParticipationSchema(many=True))
def list_on_offer(offer_id: int):
    return [participation_view(p) for p in participations_on(caller(), offer_id)]


@blp.route("/offers/<id:offer_id>/invite", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(InviteSchema)
@blp.response(201, ParticipationSchema)
def post_invite(data: dict, offer_id: int):
    participation = invite(caller().id, offer_id, data["webmaster_id"])
    commit()
    return participation_view(participation)


def _decision(name: str):
    @api_key_required(*DECIDERS)
    @blp.arguments(BODIES[name], required=name in ("decline", "ban"))
    @blp.response(200, ParticipationSchema)
    def view(data: dict, participation_id: int):
        participation = decide(caller(), participation_id, name, data["reason"])
        commit()
        return participation_view(participation)

    view.__name__ = f"{name}_participation"
    blp.route(f"/participations/<id:participation_id>/{name}", methods=["POST"])(view)


for _name in ("approve", "decline", "ban"):
    _decision(_name)


@blp.route("/participations/<id:participation_id>", methods=["PATCH"])
@api_key_required(*DECIDERS)
@blp.arguments(CustomPayoutSchema)
@blp.response(200, ParticipationSchema)
def patch_participation(data: dict, participation_id: int):
    participation = set_custom_payout(
        caller(), participation_id, data["custom_payout_minor"], data["custom_payout_bps"]
    )
    commit()
    return participation_view(participation)
