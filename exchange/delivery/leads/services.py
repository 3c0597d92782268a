"""Delivering accepted leads to their advertiser: scheduled when a lead becomes pending,
sent as a signed JSON POST from the ``delivery`` queue, retried with the postbacks'
backoff, every attempt logged; a decision in the 2xx answer decides the lead.

The delivery row is written in the transaction that makes the lead pending and its job
(``deliver-lead-<lead id>``) is enqueued after that commit. Sending is claim-then-send
(exchange/delivery/attempts.py): no row lock is held while the endpoint is called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, select

from exchange import clock
from exchange.db import commit
from exchange.delivery import attempts, domain
from exchange.delivery.leads import domain as webhook
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.leads.settings import post_signed, setting_for, settings_by_advertiser
from exchange.delivery.sender import SendResult
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.models import Lead

log = logging.getLogger(__name__)
QUEUE = "delivery"


def job_id(lead_id: int) -> str:
    return f"deliver-lead-{lead_id}"


# -- scheduling ---------------------------------------------------------------------------------


def schedule_lead_deliveries(leads: list[Lead]) -> list[LeadDelivery | None]:
    """Queue each lead's delivery, once per lead, if its advertiser has an endpoint for it;
    without one nothing is written (the advertiser pulls its leads instead). One look-up
    of the settings and one flush for all of them."""
    settings = settings_by_advertiser({lead.advertiser_id for lead in leads})
    ids = [lead.id for lead in leads]
    scheduled = set(db.session.scalars(select(LeadDelivery.lead_id).where(LeadDelivery.lead_id.in_(ids))))
    deliveries = []
    for lead in leads:
        setting = domain.override_or_global(settings.get(lead.advertiser_id, []), lead.offer_id)
        if setting is None or lead.id in scheduled:
            deliveries.append(None)
            continue
        scheduled.add(lead.id)
        deliveries.append(
            LeadDelivery(
                advertiser_id=lead.advertiser_id,
                lead_id=lead.id,
                url=setting.url,
                state=domain.PENDING,
                attempts=0,
                next_attempt_at=clock.now(),
            )
        )
    written = [delivery for delivery in deliveries if delivery is not None]
    if written:
        db.session.add_all(written)
        db.session.flush()
        for delivery in written:
            enqueue_lead_delivery(delivery.lead_id)
    return deliveries


def enqueue_lead_delivery(lead_id: int) -> None:
    enqueue_after_commit(
        "exchange.delivery.leads.jobs.deliver_lead_job", lead_id, queue=QUEUE, job_id=job_id(lead_id)
    )


def due_lead_ids(limit: int = 1000) -> list[int]:
    """Leads whose delivery is due (their jobs are keyed by the lead)."""
    return attempts.due(LeadDelivery.lead_id, limit)


# -- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    url: str | None
    secret: str | None
    body: bytes


def deliver_lead(lead_id: int, apply_answer: Callable[[int, webhook.Decision], str]) -> str:
    """Make one attempt if the lead's delivery is pending and due; answer its state afterwards.
    A decision in the advertiser's answer is applied by ``apply_answer`` in the transaction that
    records the attempt (exchange/delivery/leads/answers.py; the job passes it, since deciding a
    lead schedules deliveries)."""
    delivery_id = db.session.scalar(select(LeadDelivery.id).where(LeadDelivery.lead_id == lead_id))
    if delivery_id is None:
        return "missing"
    call = _claim(delivery_id, lead_id)
    commit()
    if call is None:
        return db.session.get(LeadDelivery, delivery_id).state
    if call.url is None:
        result = SendResult(None, 0, "no delivery URL for this lead's offer any more", "")
    else:
        result = post_signed(call.url, call.secret, call.body, webhook.LEAD_EVENT)
    decision = webhook.parse_decision(result.status_code, result.body)
    decided = apply_answer(lead_id, decision) if decision.action else None
    state = attempts.record(
        LeadDelivery,
        LeadDeliveryAttempt,
        delivery_id,
        result,
        url=call.url or "",
        decision=decision.action,
        decision_result=decided,
    )
    commit()
    log.info(
        "%s: attempt -> %s (%s)%s",
        job_id(lead_id),
        state,
        result.status_code or result.error,
        f" decision {decision.action}: {decided}" if decision.action else "",
    )
    return state


def _claim(delivery_id: int, lead_id: int) -> Call | None:
    """Claim the delivery and build what to send: the lead as it is now, to the endpoint
    and with the secret in force now (a URL fixed or a secret rotated after a failure
    is what the retry uses)."""
    delivery = attempts.claim(LeadDelivery, delivery_id)
    if delivery is None:
        return None
    lead = db.session.get(Lead, lead_id)
    body = webhook.body_of(webhook.LEAD_EVENT, webhook.lead_payload(lead), test=False)
    setting = setting_for(lead.advertiser_id, lead.offer_id)
    if setting is None:
        return Call(None, None, body)
    delivery.url = setting.url
    db.session.flush()
    return Call(setting.url, setting.signing_secret, body)


# -- reading ------------------------------------------------------------------------------------


def deliveries_of(advertiser_id: int, lead_id: int | None = None) -> Select:
    return attempts.owned(LeadDelivery, "advertiser_id", advertiser_id, lead_id)


def delivery_of(advertiser_id: int, delivery_id: int) -> LeadDelivery:
    return attempts.one_owned(LeadDelivery, "advertiser_id", advertiser_id, delivery_id)
