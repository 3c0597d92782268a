"""Recording clicks and finding where they go."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from exchange.extensions import db
from exchange.offers.domain import fill_landing_url
from exchange.offers.models import Participation
from exchange.text import storable
from exchange.tracking.models import Click

SUB_KEYS = ("sub1", "sub2", "sub3", "sub4", "sub5")


@dataclass(frozen=True)
class ClickOutcome:
    click: Click | None
    redirect_to: str | None  # None: the offer takes no traffic now


def record_click(
    participation: Participation, subs: dict[str, str], ip: str | None, user_agent: str | None
) -> ClickOutcome:
    offer = participation.offer
    if offer.status != "active" or participation.status != "active":
        return ClickOutcome(click=None, redirect_to=None)
    click = Click(
        click_id=secrets.token_urlsafe(16),
        offer_id=offer.id,
        webmaster_id=participation.webmaster_id,
        participation_id=participation.id,
        ip=storable(ip or "")[:45] or None,
        user_agent=storable(user_agent or "")[:512] or None,
        **{key: storable(subs.get(key) or "")[:255] or None for key in SUB_KEYS},
    )
    db.session.add(click)
    db.session.flush()
    macros = {key: getattr(click, key) for key in SUB_KEYS}
    macros.update(click_id=click.click_id, offer_id=offer.id, webmaster_id=click.webmaster_id)
    return ClickOutcome(click=click, redirect_to=fill_landing_url(offer.landing_url, macros))


def click_by_id(click_id: str) -> Click | None:
    return db.session.scalar(select(Click).where(Click.click_id == click_id))
