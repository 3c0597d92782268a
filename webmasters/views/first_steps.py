"""What a webmaster that has not started yet is shown on its dashboard: the offers to
join, a key to send leads with, how it is paid, or selling on the exchange instead. Gone
once it has joined an offer or sells on a vertical."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from exchange.accounts.first_steps import Step
from exchange.accounts.models import ApiKey
from exchange.extensions import db
from exchange.offers.models import Participation
from exchange.verticals.models import VerticalSeller


def first_steps_of(webmaster_id: int) -> list[Step] | None:
    """The steps, or None once the webmaster has begun."""
    begun = db.session.scalar(
        select(
            or_(
                exists().where(Participation.webmaster_id == webmaster_id),
                exists().where(VerticalSeller.webmaster_id == webmaster_id),
            )
        )
    )
    if begun:
        return None
    has_key = db.session.scalar(
        select(exists().where(ApiKey.user_id == webmaster_id, ApiKey.revoked_at.is_(None)))
    )
    return [
        Step(
            "Find an offer and join it",
            "webmaster_portal.catalog",
            "The offers' catalog shows what each pays per lead and where; joining gives you a tracking link.",
        ),
        Step(
            "Make an API key",
            "webmaster_portal.keys",
            "To send leads from your own forms and read their status; a hosted form needs none.",
            done=bool(has_key),
        ),
        Step(
            "Say how you are paid",
            "webmaster_portal.payouts",
            "Approved leads' earnings are held a while, then paid out by the rail you choose.",
        ),
        Step(
            "Or sell leads on the exchange",
            "webmaster_portal.verticals",
            "Submit leads to a vertical: they are auctioned to the buyers whose filters they match.",
        ),
    ]
