"""The advertiser's page: offers, incoming leads, balance."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from billing.services import balances_of
from exchange.accounts.views import role_required
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.services import offers_visible_to

bp = Blueprint("advertiser_portal", __name__, url_prefix="/advertiser")


@bp.get("/")
@role_required("advertiser")
def home():
    leads = db.session.scalars(
        select(Lead).where(Lead.advertiser_id == current_user.id).order_by(Lead.id.desc()).limit(100)
    ).all()
    return render_template(
        "advertiser.html",
        offers=offers_visible_to(current_user),
        leads=leads,
        balances=balances_of(current_user.id),
    )
