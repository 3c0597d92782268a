"""What an advertiser that has not started yet is shown on its dashboard: how to top up,
make an offer, or buy leads on the exchange instead. Gone once it has an offer, a buy
order or a purchase."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from exchange.accounts.first_steps import Step
from exchange.buying.models import BuyOrder, Sale
from exchange.extensions import db
from exchange.offers.models import Offer


def first_steps_of(advertiser_id: int, has_money: bool) -> list[Step] | None:
    """The steps, or None once the advertiser has begun."""
    begun = db.session.scalar(
        select(
            or_(
                exists().where(Offer.advertiser_id == advertiser_id),
                exists().where(BuyOrder.buyer_id == advertiser_id),
                exists().where(Sale.buyer_id == advertiser_id),
            )
        )
    )
    if begun:
        return None
    return [
        Step(
            "Top up your balance",
            "advertiser_portal.topup",
            "Leads are paid from it: a lead you accept is reserved there, and charged once you approve it.",
            done=has_money,
        ),
        Step(
            "Create an offer",
            "advertiser_portal.new_offer",
            "What you pay for a lead, the countries and fields you want; webmasters join it, send traffic.",
        ),
        Step(
            "Or buy leads ready now",
            "advertiser_portal.catalog",
            "The exchange's catalog sells leads captured already, priced by age; buy orders buy new ones.",
        ),
        Step(
            "Make an API key",
            "advertiser_portal.keys",
            "For your CRM: approve and reject leads, read your sales and balance through the API.",
        ),
    ]
