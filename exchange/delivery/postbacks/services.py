"""Webmaster postbacks: settings, scheduling on every lead event, sending with retries.

The sweep's two entry points (``due_delivery_ids``, ``enqueue_send``) cover every outbound
delivery: advertisers' lead deliveries (exchange/delivery/leads/services.py) too.

Services flush and never commit; the caller (a view, the job, the sweep) commits
once. A delivery row is written in the same transaction as the lead event it
reports, and its job is enqueued only after that commit.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import Select, select

from exchange import clock
from exchange.db import commit
from exchange.delivery import attempts, domain
from exchange.delivery.postbacks.domain import LeadFacts, postback_url, status_map_problems, template_problem
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery, PostbackUrl
from exchange.delivery.sender import send
from exchange.errors import Invalid, NotFound
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.models import Lead, LeadEvent
from exchange.offers.models import Participation

log = logging.getLogger(__name__)
QUEUE = "postbacks"


# -- settings -----------------------------------------------------------------------------------


def postback_url_of(webmaster_id: int, offer_id: int | None) -> PostbackUrl | None:
    """The webmaster's global URL (``offer_id`` None) or its override for one offer."""
    query = select(PostbackUrl).where(PostbackUrl.webmaster_id == webmaster_id)
    if offer_id is None:
        return db.session.scalar(query.where(PostbackUrl.offer_id.is_(None)))
    return db.session.scalar(query.where(PostbackUrl.offer_id == offer_id))


def set_postback_url(
    webmaster_id: int, offer_id: int | None, url_template: str, status_map: dict
) -> PostbackUrl:
    if offer_id is not None:
        require_joined(webmaster_id, offer_id)
    _check(url_template, status_map)
    setting = postback_url_of(webmaster_id, offer_id)
    if setting is None:
        setting = PostbackUrl(webmaster_id=webmaster_id, offer_id=offer_id)
        db.session.add(setting)
    setting.url_template = url_template
    setting.status_map = dict(status_map)
    setting.updated_at = clock.now()
    db.session.flush()
    return setting


def remove_postback_url(webmaster_id: int, offer_id: int | None) -> None:
    if offer_id is not None:
        require_joined(webmaster_id, offer_id)
    setting = postback_url_of(webmaster_id, offer_id)
    if setting is not None:
        db.session.delete(setting)
        db.session.flush()


def require_joined(webmaster_id: int, offer_id: int) -> None:
    """An override is only for an offer the webmaster joined (applied, or was let in)."""
    joined = db.session.scalar(
        select(Participation.id).where(
            Participation.webmaster_id == webmaster_id,
            Participation.offer_id == offer_id,
            Participation.status != "invited",
        )
    )
    if joined is None:
        raise NotFound("No such offer among those you joined.")


def _check(url_template: str, status_map: dict) -> None:
    fields = {}
    problem = template_problem(url_template)
    if problem:
        fields["url_template"] = [f"Must be {problem}."]
    problems = status_map_problems(status_map)
    if problems:
        fields["status_map"] = problems
    if fields:
        raise Invalid("The postback URL cannot be saved.", fields=fields)


# -- scheduling ---------------------------------------------------------------------------------


def schedule_postbacks(events: list[tuple[Lead, LeadEvent]]) -> list[PostbackDelivery | None]:
    """Queue the postback for each lead event whose webmaster wants postbacks (the offer's
    override wins over the global URL); without a URL nothing is written. One look-up of
    the settings and one flush for all of them."""
    settings = _settings_for({lead.webmaster_id for lead, _ in events})
    deliveries = []
    for lead, event in events:
        setting = domain.override_or_global(settings.get(lead.webmaster_id, []), lead.offer_id)
        deliveries.append(_delivery(lead, event, setting) if setting else None)
    written = [delivery for delivery in deliveries if delivery is not None]
    if written:
        db.session.add_all(written)
        db.session.flush()
        for delivery in written:
            enqueue_send(delivery.id)
    return deliveries


def _delivery(lead: Lead, event: LeadEvent, setting: PostbackUrl) -> PostbackDelivery:
    facts = LeadFacts(
        lead_id=lead.id,
        offer_id=lead.offer_id,
        status=event.to_status,
        click_id=lead.click_token,
        subs=(lead.sub1, lead.sub2, lead.sub3, lead.sub4, lead.sub5),
        payout_minor=lead.payout_minor,
        currency=lead.currency,
        reason_codes=tuple(lead.reason_codes or ()),
    )
    return PostbackDelivery(
        webmaster_id=lead.webmaster_id,
        lead_id=lead.id,
        lead_event_id=event.id,
        lead_status=event.to_status,
        url=postback_url(setting.url_template, facts, setting.status_map or {}),
        state=domain.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
    )


def _settings_for(webmaster_ids: set[int]) -> dict[int, list[PostbackUrl]]:
    rows = db.session.scalars(select(PostbackUrl).where(PostbackUrl.webmaster_id.in_(webmaster_ids)))
    by_webmaster: dict[int, list[PostbackUrl]] = {}
    for row in rows:
        by_webmaster.setdefault(row.webmaster_id, []).append(row)
    return by_webmaster


def enqueue_send(delivery_id: int) -> None:
    enqueue_after_commit(
        "exchange.delivery.postbacks.jobs.send_postback_job",
        delivery_id,
        queue=QUEUE,
        job_id=f"postback-{delivery_id}",
    )


def due_delivery_ids(limit: int = 1000) -> list[int]:
    """Postbacks that are due."""
    return attempts.due(PostbackDelivery.id, limit)


# -- sending ------------------------------------------------------------------------------------


def send_delivery(delivery_id: int) -> str:
    """Make one attempt if the delivery is pending and due; answer its state afterwards
    (claim-then-send: exchange/delivery/attempts.py)."""
    url, number = _claim(delivery_id)
    commit()
    if url is None:
        return _state_of(delivery_id)
    result = send(
        url,
        timeout=current_app.config["POSTBACK_TIMEOUT_SECONDS"],
        allow_private=current_app.config["POSTBACK_ALLOW_PRIVATE_ADDRESSES"],
    )
    state = _record(delivery_id, result)
    commit()
    log.info(
        "postback-%s: attempt %s -> %s (%s)", delivery_id, number, state, result.status_code or result.error
    )
    return state


def _claim(delivery_id: int) -> tuple[str | None, int]:
    delivery = attempts.claim(PostbackDelivery, delivery_id)
    return (delivery.url, delivery.attempts + 1) if delivery else (None, 0)


def _record(delivery_id: int, result) -> str:
    return attempts.record(PostbackDelivery, PostbackAttempt, delivery_id, result)


def _state_of(delivery_id: int) -> str:
    delivery = db.session.get(PostbackDelivery, delivery_id)
    return delivery.state if delivery else "missing"


# -- reading ------------------------------------------------------------------------------------


def deliveries_of(webmaster_id: int, lead_id: int | None = None) -> Select:
    return attempts.owned(PostbackDelivery, "webmaster_id", webmaster_id, lead_id)


def delivery_of(webmaster_id: int, delivery_id: int) -> PostbackDelivery:
    return attempts.one_owned(PostbackDelivery, "webmaster_id", webmaster_id, delivery_id)
