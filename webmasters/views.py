"""The webmaster's page: joined offers with links, leads, earnings, payouts."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from billing.models import Payout
from billing.services import balances_of
from exchange.accounts.views import role_required
from exchange.disputes.queries import disputes_of
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.notifications import latest_for
from exchange.offers.api import participation_view
from exchange.offers.services import participations_of

bp = Blueprint("webmaster_portal", __name__, url_prefix="/webmaster")


@bp.get("/")
@role_required("webmaster")
def home():
    participations = participations_of(current_user.id)
    leads = db.session.scalars(
        select(Lead).where(Lead.webmaster_id == current_user.id).order_by(Lead.id.desc()).limit(100)
    ).all()
    payouts = db.session.scalars(
        select(Payout).where(Payout.webmaster_id == current_user.id).order_by(Payout.id.desc())
    ).all()
    return render_template(
        "webmaster.html",
        links=[(p.offer, participation_view(p)) for p in participations],
        leads=leads,
        balances=balances_of(current_user.id),
        disputes=disputes_of(current_user.id),
        notifications=latest_for(current_user.id),
        payouts=payouts,
    )
