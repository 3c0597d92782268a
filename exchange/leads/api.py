"""Reading leads: each caller sees its own (webmaster) or its offers' (advertiser)."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.leads.schemas import AdvertiserLeadSchema, LeadQuerySchema, WebmasterLeadSchema
from exchange.pagination import paginate

blp = Blueprint("leads", __name__, url_prefix="/api/v1", description="Leads")
ROLE_VIEW = (
    "Advertisers get AdvertiserLead (fields, findings, rate); "
    "webmasters get WebmasterLead (payout only, never the rate)."
)


def leads_of(user: User):
    query = select(Lead)
    if user.role == "webmaster":
        return query.where(Lead.webmaster_id == user.id)
    if user.role == "advertiser":
        return query.where(Lead.advertiser_id == user.id)
    return query


def lead_schema_for(user: User, many: bool = False):
    schema = WebmasterLeadSchema if user.role == "webmaster" else AdvertiserLeadSchema
    return schema(many=many)


@blp.route("/leads", methods=["GET"])
@api_key_required()
@blp.arguments(LeadQuerySchema, location="query")
@blp.response(200, description=ROLE_VIEW)
def list_leads(args: dict):
    user = caller()
    query = leads_of(user).order_by(Lead.id.desc())
    if args["status"]:
        query = query.where(Lead.status == args["status"])
    if args["offer_id"]:
        query = query.where(Lead.offer_id == args["offer_id"])
    page = paginate(query, args["page"], args["per_page"])
    page["items"] = lead_schema_for(user, many=True).dump(page["items"])
    return page


@blp.route("/leads/<id:lead_id>", methods=["GET"])
@api_key_required()
@blp.response(200, description=ROLE_VIEW)
def get_lead(lead_id: int):
    user = caller()
    lead = db.session.scalar(leads_of(user).where(Lead.id == lead_id))
    if lead is None:
        raise NotFound("No such lead.")
    return lead_schema_for(user).dump(lead)
