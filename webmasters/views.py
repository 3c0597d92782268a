"""The webmaster's pages: the dashboard here; the catalog and offer pages, leads with
appeals, postback settings and payouts in ``pages_*``. Pages only translate: they call
the same services as the API and commit once; a refused action is said on the page."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from exchange.accounts.views import role_required
from exchange.disputes.queries import disputes_of
from exchange.notifications import latest_for
from exchange.offers.api import offer_view, participation_view
from exchange.offers.services import participations_of
from webmasters import (  # noqa: F401  (their routes)
    pages_disputes,
    pages_leads,
    pages_offers,
    pages_payouts,
    pages_postbacks,
    pages_reports,
)
from webmasters.pages_common import bp
from webmasters.pages_dashboard import PERIOD_DAYS, dashboard_of

__all__ = ["bp"]


@bp.get("/")
@role_required("webmaster")
def home():
    participations = participations_of(current_user.id)
    return render_template(
        "webmaster.html",
        stats=dashboard_of(current_user),
        period_days=PERIOD_DAYS,
        links=[(offer_view(current_user, p.offer), participation_view(p)) for p in participations],
        disputes=disputes_of(current_user.id),
        notifications=latest_for(current_user.id),
    )
