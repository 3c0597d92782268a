"""Reputation over the API: each party its own, moderators everyone's
(docs/moderation.md). Nothing here writes.

A webmaster or an advertiser sees only its own figures (``GET /reputation``); the
moderation paths are for moderators and admins, and answer 403 to anyone else.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as ma

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.moderation.reputation.domain import ROUNDING, AdvertiserFigures, WebmasterFigures
from exchange.moderation.reputation.services import (
    SORTS,
    Period,
    advertiser_reputation,
    reputation_page,
    webmaster_reputation,
    webmaster_sub_sources,
)
from exchange.openapi import Blueprint, by_role
from exchange.pagination import PageQuerySchema, page_schema
from exchange.schema_fields import UtcDateTime

blp = Blueprint("reputation", __name__, url_prefix="/api/v1", description="Reputation")
UNTIL_AFTER_SINCE = "until: later than since"  # a rule said in words (exchange/openapi.py)
MODERATORS = ("moderator", "admin")
RATE = f"A percentage ({ROUNDING}); null when its denominator is 0."


def _period_field(description: str) -> ma.NaiveDateTime:
    return ma.NaiveDateTime(timezone=UTC, load_default=None, metadata={"description": description})


class PeriodQuerySchema(Schema):
    since = _period_field("Lead events at or after, disputes ended at or after (ISO 8601; no offset: UTC).")
    until = _period_field("Lead events before, disputes ended before; later than since.")

    @validates_schema
    def _in_order(self, data: dict, **_kwargs) -> None:
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be later than since.", "until")


def _list_query_schema(role: str, volume: str) -> type[Schema]:
    sorts = ["id", *SORTS[role]]
    fields = {
        "sort": ma.String(
            load_default="id",
            validate=validate.OneOf(sorts),
            metadata={"description": "The user's id, a rate, or the number of leads it is taken over."},
        ),
        "order": ma.String(load_default="asc", validate=validate.OneOf(["asc", "desc"])),
        f"min_{volume}": ma.Integer(
            load_default=0,
            validate=validate.Range(min=0, max=2**31 - 1),
            metadata={"description": f"Leave out those with fewer leads {volume} in the period."},
        ),
    }
    name = f"{role.title()}ReputationQuery"
    return type(name, (PageQuerySchema, PeriodQuerySchema), fields)


WebmasterListQuerySchema = _list_query_schema("webmaster", "decided")
AdvertiserListQuerySchema = _list_query_schema("advertiser", "reviewed")


class ReputationPartySchema(Schema):
    id = ma.Integer()
    name = ma.String()
    email = ma.String()
    status = ma.String(metadata={"description": "active, pending or banned"})


class WebmasterFiguresSchema(Schema):
    leads_decided = ma.Integer(metadata={"description": "Leads approved or rejected at least once."})
    leads_approved = ma.Integer(metadata={"description": "Leads approved at least once."})
    leads_rejected = ma.Integer(metadata={"description": "Leads rejected at least once, by anyone."})
    rejected_by_validation = ma.Integer()
    rejected_by_advertiser = ma.Integer()
    rejected_as_fraud = ma.Integer(metadata={"description": "Rejected by a moderator's fraud review."})
    leads_returned = ma.Integer()
    approval_rate = ma.Float(allow_none=True, metadata={"description": f"approved / decided. {RATE}"})
    return_rate = ma.Float(allow_none=True, metadata={"description": f"returned / approved. {RATE}"})
    disputes_won = ma.Integer()
    disputes_lost = ma.Integer()
    disputes_withdrawn = ma.Integer(metadata={"description": "Appeals it opened and withdrew."})


class SubSourceSchema(WebmasterFiguresSchema):
    sub1 = ma.String(metadata={"description": "The sub1; (none) for leads without one."})


class AdvertiserFiguresSchema(Schema):
    leads_reviewed = ma.Integer(
        metadata={"description": "Leads it approved or rejected, or approved by silence or auto-approval."}
    )
    leads_rejected = ma.Integer(metadata={"description": "Its own rejections."})
    leads_approved = ma.Integer()
    leads_returned = ma.Integer()
    rejection_rate = ma.Float(allow_none=True, metadata={"description": f"rejected / reviewed. {RATE}"})
    return_rate = ma.Float(allow_none=True, metadata={"description": f"returned / approved. {RATE}"})
    disputes_won = ma.Integer()
    disputes_lost = ma.Integer()
    disputes_withdrawn = ma.Integer(metadata={"description": "Returns it asked for and withdrew."})


class WebmasterReputationSchema(Schema):
    role = ma.Constant("webmaster")
    webmaster = ma.Nested(ReputationPartySchema)
    since = UtcDateTime(allow_none=True)
    until = UtcDateTime(allow_none=True)
    totals = ma.Nested(WebmasterFiguresSchema)
    sub_sources = ma.List(ma.Nested(SubSourceSchema))


class AdvertiserReputationSchema(Schema):
    role = ma.Constant("advertiser")
    advertiser = ma.Nested(ReputationPartySchema)
    since = UtcDateTime(allow_none=True)
    until = UtcDateTime(allow_none=True)
    totals = ma.Nested(AdvertiserFiguresSchema)


class WebmasterRowSchema(Schema):
    webmaster = ma.Nested(ReputationPartySchema)
    totals = ma.Nested(WebmasterFiguresSchema)


class AdvertiserRowSchema(Schema):
    advertiser = ma.Nested(ReputationPartySchema)
    totals = ma.Nested(AdvertiserFiguresSchema)


def _period(args: dict) -> Period:
    return Period(args.get("since"), args.get("until"))


def _webmaster_view(user: User, period: Period) -> dict:
    by_sub1 = webmaster_sub_sources(user.id, period)
    return {
        "webmaster": user,
        "since": period.since,
        "until": period.until,
        "totals": webmaster_reputation(user.id, period).as_dict(),
        "sub_sources": [{"sub1": label, **figures.as_dict()} for label, figures in by_sub1],
    }


def _advertiser_view(user: User, period: Period) -> dict:
    return {
        "advertiser": user,
        "since": period.since,
        "until": period.until,
        "totals": advertiser_reputation(user.id, period).as_dict(),
    }


def _user_of_role(user_id: int, role: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != role:
        raise NotFound(f"No such {role}.")
    return user


@blp.route("/reputation", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required("webmaster", "advertiser")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.doc(responses=by_role(WebmasterReputationSchema, AdvertiserReputationSchema))
@blp.response(
    200,
    description="A webmaster gets WebmasterReputation (totals and sub-sources), "
    "an advertiser AdvertiserReputation; each only its own.",
)
def own_reputation(args: dict):
    """Your own reputation: the figures moderators see about you."""
    user, period = caller(), _period(args)
    if user.role == "webmaster":
        return WebmasterReputationSchema().dump(_webmaster_view(user, period))
    return AdvertiserReputationSchema().dump(_advertiser_view(user, period))


@blp.route("/moderation/reputation/webmasters", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(WebmasterListQuerySchema, location="query")
@blp.response(200, page_schema(WebmasterRowSchema))
def webmasters(args: dict):
    """Every webmaster with its totals; ``sort=approval_rate&order=asc`` puts the worst first
    (those with no rate come last either way)."""
    return _listing("webmaster", args, min_count=args["min_decided"])


@blp.route("/moderation/reputation/webmasters/<id:webmaster_id>", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, WebmasterReputationSchema)
def webmaster(args: dict, webmaster_id: int):
    """One webmaster: its totals and its sub-sources (by sub1)."""
    return _webmaster_view(_user_of_role(webmaster_id, "webmaster"), _period(args))


@blp.route("/moderation/reputation/advertisers", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(AdvertiserListQuerySchema, location="query")
@blp.response(200, page_schema(AdvertiserRowSchema))
def advertisers(args: dict):
    """Every advertiser with its figures; ``sort=rejection_rate&order=desc`` puts the
    harshest first (those with no rate come last either way)."""
    return _listing("advertiser", args, min_count=args["min_reviewed"])


@blp.route("/moderation/reputation/advertisers/<id:advertiser_id>", methods=["GET"])
@blp.rules(UNTIL_AFTER_SINCE)
@api_key_required(*MODERATORS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, AdvertiserReputationSchema)
def advertiser(args: dict, advertiser_id: int):
    """One advertiser's figures."""
    return _advertiser_view(_user_of_role(advertiser_id, "advertiser"), _period(args))


def _listing(role: str, args: dict, *, min_count: int) -> dict:
    """A page of every user of ``role`` with its figures, as the list endpoints answer it."""
    page = reputation_page(
        role,
        _period(args),
        sort=args["sort"],
        order=args["order"],
        min_count=min_count,
        page=args["page"],
        per_page=args["per_page"],
    )
    page["items"] = [_row(role, user, figures) for user, figures in page["items"]]
    return page


def _row(role: str, user: User, figures: WebmasterFigures | AdvertiserFigures) -> dict:
    return {role: user, "totals": figures.as_dict()}
