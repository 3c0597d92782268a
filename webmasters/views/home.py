"""The webmaster's home: the dashboard."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from exchange.accounts.views import role_required
from exchange.disputes.queries import disputes_of
from exchange.notifications.services import latest_for
from exchange.offers.api import offer_view, participation_view
from exchange.offers.services import participations_of
from webmasters.views.common import bp
from webmasters.views.dashboard import PERIOD_DAYS, dashboard_of
from webmasters.views.first_steps import first_steps_of

__all__ = ["bp"]


@bp.get("/")
@role_required("webmaster")
def home():
    participations = participations_of(current_user.id)
    return render_template(
        "webmaster.html",
        first_steps=first_steps_of(current_user.id),
        stats=dashboard_of(current_user),
        period_days=PERIOD_DAYS,
        links=[(offer_view(current_user, p.offer), participation_view(p)) for p in participations],
        disputes=disputes_of(current_user.id),
        notifications=latest_for(current_user.id),
    )
