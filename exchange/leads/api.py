"""Reading leads: each caller sees its own (webmaster) or its offers' (advertiser)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import fields as ma
from marshmallow import validate
from sqlalchemy import Select, select

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.bounds import MAX_ID
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.leads.schemas import AdvertiserLeadSchema, LeadQuerySchema, WebmasterLeadSchema
from exchange.openapi import Blueprint, by_role
from exchange.pagination import page_schema, paginate

blp = Blueprint("leads", __name__, url_prefix="/api/v1", description="Leads")
ROLE_VIEW = (
    "Advertisers get AdvertiserLead (fields, findings, rate); "
    "webmasters get WebmasterLead (payout only, never the rate)."
)


class LeadFilterSchema(LeadQuerySchema):
    """The list's filters (also the CSV export's). To pull new pending leads without gaps:
    ``?status=pending&order=asc&after_id=<the last id you saw>``."""

    since = ma.NaiveDateTime(
        timezone=UTC,
        load_default=None,
        metadata={"description": "Received at or after (ISO 8601; no offset means UTC)."},
    )
    until = ma.NaiveDateTime(timezone=UTC, load_default=None, metadata={"description": "Received before."})
    after_id = ma.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Only leads with a greater id (a cursor; use with order=asc)."},
    )
    order = ma.String(
        load_default="desc",
        validate=validate.OneOf(["asc", "desc"]),
        metadata={"description": "By id: desc (newest first, the default) or asc."},
    )


def filtered_leads(user: User, args: dict) -> Select:
    query = leads_of(user)
    if args.get("status"):
        query = query.where(Lead.status == args["status"])
    if args.get("offer_id"):
        query = query.where(Lead.offer_id == args["offer_id"])
    if args.get("since"):
        query = query.where(Lead.created_at >= args["since"])
    if args.get("until"):
        query = query.where(Lead.created_at < args["until"])
    if args.get("after_id") is not None:
        query = query.where(Lead.id > args["after_id"])
    return query.order_by(Lead.id.asc() if args.get("order") == "asc" else Lead.id.desc())


def leads_of(user: User):
    query = select(Lead)
    if user.role == "webmaster":
        return query.where(Lead.webmaster_id == user.id)
    if user.role == "advertiser":
        return query.where(Lead.advertiser_id == user.id)
    return query


ADVERTISER_LEADS, WEBMASTER_LEADS = page_schema(AdvertiserLeadSchema), page_schema(WebmasterLeadSchema)


def lead_schema_for(user: User, many: bool = False):
    schema = WebmasterLeadSchema if user.role == "webmaster" else AdvertiserLeadSchema
    return schema(many=many)


@blp.route("/leads", methods=["GET"])
@api_key_required()
@blp.arguments(LeadFilterSchema, location="query")
@blp.doc(responses=by_role(ADVERTISER_LEADS, WEBMASTER_LEADS))
@blp.response(200, description=ROLE_VIEW)
def list_leads(args: dict):
    user = caller()
    page = paginate(filtered_leads(user, args), args["page"], args["per_page"])
    page["items"] = lead_schema_for(user, many=True).dump(page["items"])
    return page


@blp.route("/leads/<id:lead_id>", methods=["GET"])
@api_key_required()
@blp.doc(responses=by_role(AdvertiserLeadSchema, WebmasterLeadSchema))
@blp.response(200, description=ROLE_VIEW)
def get_lead(lead_id: int):
    user = caller()
    lead = db.session.scalar(leads_of(user).where(Lead.id == lead_id))
    if lead is None:
        raise NotFound("No such lead.")
    return lead_schema_for(user).dump(lead)
