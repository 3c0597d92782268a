"""The advertiser's billing overview (balances, spend, where the statements and invoices
are) and its API keys (``exchange.accounts.key_pages``)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from advertisers.views.common import bp
from advertisers.views.dashboard import spend_of
from billing.services import balances_of
from exchange.accounts.key_pages import add_key_pages
from exchange.accounts.views import role_required


@bp.get("/billing")
@role_required("advertiser")
def billing():
    return render_template(
        "advertiser_billing.html", balances=balances_of(current_user.id), spend=spend_of(current_user.id)
    )


add_key_pages(bp, "advertiser")
