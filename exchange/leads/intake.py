"""Taking a lead in: attribute it, check its shape, store it as received.

Validation proper happens in the job; intake refuses at once only what a
webmaster must fix before resending (unknown click or offer, fields that do
not match the offer), so that such requests leave nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange.actors import Actor
from exchange.errors import Conflict, Invalid
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.checks import field_errors, normalise_email, normalise_phone
from exchange.leads.models import Consent, Lead
from exchange.leads.normalise import trim_fields
from exchange.leads.transitions import record_submission
from exchange.moderation.partners.services import require_good_standing
from exchange.offers.models import Participation
from exchange.privacy.hashing import contact_hashes
from exchange.tracking import clickids
from exchange.tracking.geo import country_of
from exchange.tracking.models import Click
from exchange.tracking.services import SUB_KEYS, click_by_id, click_key


@dataclass(frozen=True)
class Submission:
    lead: Lead
    replayed: bool


def request_fingerprint(payload: dict) -> str:
    """The same request body gives the same fingerprint (key order aside)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_lead(
    webmaster_id: int,
    payload: dict,
    actor: Actor,
    idempotency_key: str | None = None,
    consent: dict | None = None,
) -> Submission:
    """``payload`` was loaded through ``LeadSubmitSchema``; ``consent`` (hosted
    forms) is ``{"text", "given_at", "ip", "page_url"}``."""
    fingerprint = request_fingerprint(payload)
    if idempotency_key:
        earlier = by_idempotency_key(webmaster_id, idempotency_key)
        if earlier is not None:
            return replay_of(earlier, fingerprint)
    require_good_standing(webmaster_id)  # pending or banned: 403 (docs/moderation.md)
    click_token, click, participation = _attribute(webmaster_id, payload)
    if participation.status != "active":
        raise Invalid("You may not send leads to this offer now.", code="participation_inactive")
    offer = participation.offer
    if offer.model != "cpl":
        raise Invalid(
            f"A {offer.model} offer takes no leads: its advertiser reports conversions by postback.",
            code="offer_takes_no_leads",
        )
    values = trim_fields(offer.fields, payload["fields"])
    errors = field_errors(offer.fields, values)
    if errors:
        raise Invalid("The lead's fields do not match the offer.", fields={"fields": errors})
    subs = {key: getattr(click, key) if click else payload.get(key) for key in SUB_KEYS}
    country = (field_of_type(offer.fields, values, "country") or "").upper() or None
    ip = str(payload["ip"]) if payload.get("ip") else (click.ip if click else None)
    email_key = normalise_email(field_of_type(offer.fields, values, "email"))
    phone_key = normalise_phone(field_of_type(offer.fields, values, "phone"), country)
    lead = Lead(
        offer_id=offer.id,
        advertiser_id=offer.advertiser_id,
        webmaster_id=webmaster_id,
        click_token=click_token,
        fields=values,
        email_key=email_key,
        phone_key=phone_key,
        **contact_hashes(email_key, phone_key),
        country=country,
        ip=ip,
        ip_country=country_of(ip),
        user_agent=user_agent_of(payload, click),
        status="received",
        reason_codes=[],
        findings=[],
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        **subs,
    )
    try:
        with db.session.begin_nested():
            db.session.add(lead)
    except IntegrityError:  # the same key arrived concurrently
        earlier = by_idempotency_key(webmaster_id, idempotency_key)
        if earlier is None:
            raise
        return replay_of(earlier, fingerprint)
    if consent is not None:
        db.session.add(Consent(lead_id=lead.id, **consent))
    record_submission(lead, actor)
    enqueue_validation(lead.id)
    return Submission(lead=lead, replayed=False)


def enqueue_validation(lead_id: int) -> None:
    enqueue_after_commit(
        "exchange.leads.jobs.validate_lead_job",
        lead_id,
        queue="validation",
        job_id=validation_job_id(lead_id),
    )


def validation_job_id(lead_id: int) -> str:
    return f"validate-lead-{lead_id}"


def _attribute(webmaster_id: int, payload: dict) -> tuple[str | None, Click | None, Participation]:
    """The lead's click id (if any), its click row (if already written), and its participation.

    A click id is trusted by its signature alone: its row may still be in
    the click buffer."""
    if payload.get("click_id"):
        claims = clickids.verify(click_key(), payload["click_id"])
        if claims is None or claims.webmaster_id != webmaster_id:
            raise Invalid(
                "No click with this id belongs to you.",
                code="click_not_found",
                fields={"click_id": ["Unknown click id."]},
            )
        participation = db.session.get(Participation, claims.participation_id)
        return payload["click_id"], click_by_id(payload["click_id"]), participation
    participation = db.session.scalar(
        select(Participation).where(
            Participation.webmaster_id == webmaster_id,
            Participation.offer_id == payload.get("offer_id"),
        )
    )
    if participation is None:
        raise Invalid(
            "You have not joined an offer with this id.",
            code="offer_not_found",
            fields={"offer_id": ["Unknown offer, or not joined."]},
        )
    return None, None, participation


def user_agent_of(payload: dict, click: Click | None) -> str | None:
    """The visitor's user agent: as sent with the lead, else its click's, else this request's."""
    agent = payload.get("user_agent") or (click.user_agent if click else None)
    if agent is None and has_request_context():
        agent = request.headers.get("User-Agent", "")
    return (agent or "")[:512] or None


def replay_of(earlier: Lead, fingerprint: str) -> Submission:
    if earlier.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used with another request body.", code="idempotency_key_reused"
        )
    return Submission(lead=earlier, replayed=True)


def by_idempotency_key(webmaster_id: int, key: str) -> Lead | None:
    return db.session.scalar(
        select(Lead).where(Lead.webmaster_id == webmaster_id, Lead.idempotency_key == key)
    )


def field_of_type(specs: list[dict], values: dict, field_type: str) -> object:
    name = next((spec["name"] for spec in specs if spec["type"] == field_type), None)
    return values.get(name) if name else None
