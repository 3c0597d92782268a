"""Recording clicks and finding where they go.

With Redis (``REDIS_URL``) a click is pushed onto a buffer and written to
the database later, in batches, by the flusher (exchange/tracking/buffer.py):
the click path makes no database write. Without Redis it is inserted at
once. Either way the click id is signed, so a lead can be attributed
before the click's row exists.

A click on a seller's vertical link (``record_vertical_click``) takes the
same path; its record names the vertical and the seller instead of the
offer and the participation (every record carries all four columns, so a
batch of both kinds is written by one statement).
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import exists, select

from exchange import clock
from exchange.extensions import db
from exchange.metrics import CLICKS_STORED, count_on_commit
from exchange.offers.domain import fill_landing_url, pick_landing
from exchange.reports.changes import mark
from exchange.text import storable
from exchange.tracking import buffer, clickids
from exchange.tracking.geo import country_of
from exchange.tracking.links import LinkTarget, VerticalLinkTarget
from exchange.tracking.models import SUB_KEYS, Click

log = logging.getLogger(__name__)
MAX_PASS_THROUGH = 10
UNIQUE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ClickOutcome:
    click_id: str
    redirect_to: str | None  # None: a plain "not taking traffic" page
    trafficback_reason: str | None = None  # set when the visitor is not sent to the landing page
    written: bool = False  # True: a row was added to the session (the caller commits)


@dataclass(frozen=True)
class RecordedClick:
    click_id: str
    written: bool  # True: a row was added to the session (the caller commits)


def click_key() -> bytes:
    return clickids.derive_key(current_app.config["SECRET_KEY"])


def record_click(
    target: LinkTarget,
    subs: dict[str, str],
    ip: str | None,
    user_agent: str | None,
    params: dict[str, str] | None = None,
) -> ClickOutcome:
    now = clock.now()
    click_id = clickids.issue(click_key(), target.offer_id, target.webmaster_id, target.participation_id, now)
    record = _visit(click_id, now, subs, ip, user_agent, params)
    record.update(
        trafficback_reason=trafficback_reason(target, record["country"]),
        offer_id=target.offer_id,
        participation_id=target.participation_id,
        vertical_id=None,
        vertical_seller_id=None,
        webmaster_id=target.webmaster_id,
    )
    written = _store(record)
    reason = record["trafficback_reason"]
    if reason is None:
        redirect_to = landing_url_for(target, record)
    elif target.trafficback_url:
        redirect_to = fill_landing_url(target.trafficback_url, _macros(target, record))
    else:
        redirect_to = None
    return ClickOutcome(click_id, redirect_to, trafficback_reason=reason, written=written)


def record_vertical_click(
    target: VerticalLinkTarget,
    subs: dict[str, str],
    ip: str | None,
    user_agent: str | None,
    params: dict[str, str] | None = None,
) -> RecordedClick:
    """A click on a seller's vertical link. It always leads to the hosted form: a vertical
    has no landing page nor trafficback, and the form judges the visitor's country."""
    now = clock.now()
    click_id = clickids.issue_vertical(
        click_key(), target.vertical_id, target.webmaster_id, target.vertical_seller_id, now
    )
    record = _visit(click_id, now, subs, ip, user_agent, params)
    record.update(
        trafficback_reason=None,
        offer_id=None,
        participation_id=None,
        vertical_id=target.vertical_id,
        vertical_seller_id=target.vertical_seller_id,
        webmaster_id=target.webmaster_id,
    )
    return RecordedClick(click_id, written=_store(record))


def _visit(
    click_id: str,
    now: datetime,
    subs: dict[str, str],
    ip: str | None,
    user_agent: str | None,
    params: dict[str, str] | None,
) -> dict:
    """What every click records of its visitor."""
    return {
        "click_id": click_id,
        "country": country_of(ip),
        "ip": storable(ip or "")[:45] or None,
        "user_agent": storable(user_agent or "")[:512] or None,
        "params": _pass_through(params or {}) or None,
        "created_at": now,
        **{key: storable(subs.get(key) or "")[:255] or None for key in SUB_KEYS},
    }


def _store(record: dict) -> bool:
    """Buffer the click, or (no buffer) add its row to the session: True when added."""
    if _buffered(record):
        return False
    record["is_unique"] = not _seen_recently(record)
    db.session.add(Click(**record))
    db.session.flush()
    count_on_commit(CLICKS_STORED)
    mark([(record["created_at"], record["offer_id"])])  # the reports' bucket (offers only), same transaction
    return True


def trafficback_reason(target: LinkTarget, country: str | None) -> str | None:
    """Why this click may not go to the landing page, or None.

    A click whose country is unknown (a private or unlisted address) is let
    through: the lead's own checks decide later."""
    if not target.takes_traffic:
        return "not_taking_traffic"
    if target.allowed_countries and country and country not in target.allowed_countries:
        return "geo_not_allowed"
    if target.full_cap:
        return "cap_reached"
    return None


def _buffered(record: dict) -> bool:
    """Push the click onto the Redis buffer; False when there is none or it
    cannot be reached (then the click is written directly: never lost)."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return False
    try:
        buffer.push(redis_url, record)
    except RedisError:
        log.warning("click buffer unreachable; writing the click directly")
        return False
    return True


def landing_url_for(target: LinkTarget, record: dict) -> str:
    """The offer's landing URL with its macros filled in and the pass-through
    parameters appended; the host always comes from the stored template."""
    template = pick_landing(target.landing_url, list(target.landing_urls), random.random())
    url = fill_landing_url(template, _macros(target, record))
    own_keys = _query_keys(template)
    extra = {key: value for key, value in (record["params"] or {}).items() if key not in own_keys}
    if extra:
        base, _, fragment = url.partition("#")
        joiner = "&" if "?" in base else "?"
        url = base + joiner + urlencode(extra) + (f"#{fragment}" if fragment else "")
    return url


def _macros(target: LinkTarget, record: dict) -> dict:
    macros = {key: record[key] for key in SUB_KEYS}
    macros.update(click_id=record["click_id"], offer_id=target.offer_id, webmaster_id=target.webmaster_id)
    return macros


@functools.lru_cache(maxsize=4096)
def _query_keys(template: str) -> frozenset[str]:
    return frozenset(key for key, _ in parse_qsl(urlsplit(template).query, keep_blank_values=True))


def click_by_id(click_id: str) -> Click | None:
    return db.session.scalar(select(Click).where(Click.click_id == click_id))


def _pass_through(params: dict[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in params.items():
        if name in SUB_KEYS or len(kept) >= MAX_PASS_THROUGH:
            continue
        name, value = storable(name)[:40], storable(value)[:255]
        if name:
            kept[name] = value
    return kept


def _seen_recently(record: dict) -> bool:
    """A unique click of this IP and user agent on this offer (or vertical) within the last
    24 hours (direct-insert mode; the same rule as the buffer's Redis key,
    which lives 24 hours from the visitor's unique click)."""
    if record["offer_id"] is not None:
        same_link_kind = Click.offer_id == record["offer_id"]
    else:
        same_link_kind = Click.vertical_id == record["vertical_id"]
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    same_link_kind,
                    Click.ip == record["ip"],
                    Click.user_agent == record["user_agent"],
                    Click.is_unique,
                    Click.created_at > record["created_at"] - UNIQUE_WINDOW,
                )
            )
        )
    )
