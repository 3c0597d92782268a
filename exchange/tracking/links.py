"""Where a tracking link leads, cached briefly in each process.

The click path reads the link's target on every click; a cache of a few
seconds (``LINK_CACHE_SECONDS``) spares the database that read for popular
links. A paused offer or a banned webmaster takes effect within that time;
a moderator's ban or approval forgets the webmaster's links in the process
that made it at once (``forget_webmaster``), other processes within that time.
It is only a cache: every process may hold its own copy.

A seller's vertical link (``/v/<token>``) has a target of its own kind
(``VerticalLinkTarget``), cached alike under a key that no offer token can
take (tokens are URL-safe base64, which has no ``:``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from exchange import clock
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.offers.caps import cap_reached
from exchange.offers.models import Offer, Participation
from exchange.verticals.models import Vertical, VerticalSeller


@dataclass(frozen=True)
class LinkTarget:
    participation_id: int
    offer_id: int
    webmaster_id: int
    landing_url: str
    takes_traffic: bool
    allowed_countries: tuple[str, ...] = ()
    trafficback_url: str | None = None
    full_cap: str | None = None  # a cap already full when the target was read
    landing_urls: tuple[dict, ...] = ()  # weighted rotation, [{"url", "weight"}]; empty: landing_url


@dataclass(frozen=True)
class VerticalLinkTarget:
    """Where a seller's vertical link leads: its hosted form, while it may take traffic."""

    vertical_seller_id: int
    vertical_id: int
    webmaster_id: int
    # The seller is active on the vertical, the vertical is active, the webmaster too.
    takes_traffic: bool


Target = LinkTarget | VerticalLinkTarget
_cache: dict[str, tuple[float, Target | None]] = {}
_lock = threading.Lock()
_VERTICAL = "v:"


def link_target(token: str, max_age_seconds: float) -> LinkTarget | None:
    return _cached(token, lambda: _load(token), max_age_seconds)


def vertical_link_target(token: str, max_age_seconds: float) -> VerticalLinkTarget | None:
    return _cached(_VERTICAL + token, lambda: _load_vertical(token), max_age_seconds)


def _cached(key: str, load: Callable[[], Target | None], max_age_seconds: float) -> Target | None:
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and now - cached[0] < max_age_seconds:
        return cached[1]
    target = load()
    if max_age_seconds > 0:
        with _lock:
            if len(_cache) > 50_000:  # bounded: forget everything rather than grow
                _cache.clear()
            _cache[key] = (now, target)
    return target


def forget_webmaster(webmaster_id: int) -> None:
    """Drop this process's cached targets of one webmaster's links (after its status changed)."""
    with _lock:
        for token in [
            t for t, (_, target) in _cache.items() if target and target.webmaster_id == webmaster_id
        ]:
            _cache.pop(token, None)


def target_of(
    participation: Participation, offer: Offer | None = None, webmaster_status: str | None = None
) -> LinkTarget:
    """The target of a participation already loaded (no cache). A webmaster that is not
    active (pending approval, banned) takes no traffic, as a paused participation."""
    offer = offer or participation.offer
    if webmaster_status is None:
        webmaster_status = db.session.get(User, participation.webmaster_id).status
    return LinkTarget(
        participation_id=participation.id,
        offer_id=offer.id,
        webmaster_id=participation.webmaster_id,
        landing_url=offer.landing_url,
        takes_traffic=offer.status == "active"
        and participation.status == "active"
        and webmaster_status == "active",
        allowed_countries=tuple(offer.allowed_countries or ()),
        trafficback_url=offer.trafficback_url,
        full_cap=cap_reached(offer, participation.webmaster_id, clock.now()),
        landing_urls=tuple(offer.landing_urls or ()),
    )


def _load(token: str) -> LinkTarget | None:
    row = db.session.execute(
        select(Participation, Offer, User.status)
        .join(Offer, Offer.id == Participation.offer_id)
        .join(User, User.id == Participation.webmaster_id)
        .where(Participation.token == token)
    ).first()
    if row is None:
        return None
    participation, offer, webmaster_status = row
    return target_of(participation, offer, webmaster_status)


def vertical_target_of(
    seller: VerticalSeller, vertical: Vertical, webmaster_status: str
) -> VerticalLinkTarget:
    statuses = (seller.status, vertical.status, webmaster_status)
    return VerticalLinkTarget(
        vertical_seller_id=seller.id,
        vertical_id=vertical.id,
        webmaster_id=seller.webmaster_id,
        takes_traffic=all(status == "active" for status in statuses),
    )


def _load_vertical(token: str) -> VerticalLinkTarget | None:
    row = db.session.execute(
        select(VerticalSeller, Vertical, User.status)
        .join(Vertical, Vertical.id == VerticalSeller.vertical_id)
        .join(User, User.id == VerticalSeller.webmaster_id)
        .where(VerticalSeller.token == token)
    ).first()
    return None if row is None else vertical_target_of(*row)
