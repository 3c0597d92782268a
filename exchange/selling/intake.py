"""Taking a lead for a vertical in: check the seller and the fields, store it as received.

As for offer leads (exchange/leads/intake.py), intake refuses at once only what the
seller must fix before sending again; the validation job judges the rest.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.exc import IntegrityError

from exchange.actors import Actor
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.jobs import enqueue_after_commit
from exchange.leads.checks import field_errors, normalise_email, normalise_phone
from exchange.leads.intake import (
    Submission,
    by_idempotency_key,
    field_of_type,
    replay_of,
    request_fingerprint,
    user_agent_of,
    validation_job_id,
)
from exchange.leads.models import Consent, Lead
from exchange.leads.normalise import trim_fields
from exchange.leads.transitions import record_submission
from exchange.moderation.partners.services import require_good_standing
from exchange.tracking.geo import country_of
from exchange.tracking.services import SUB_KEYS
from exchange.verticals.services import active_seller

VALIDATE_JOB = "exchange.selling.jobs.validate_exchange_lead_job"


def submit_to_vertical(
    webmaster_id: int,
    vertical_id: int,
    payload: dict,
    actor: Actor,
    idempotency_key: str | None = None,
    *,
    enqueue: bool = True,
) -> Submission:
    """``payload`` was loaded through ``ExchangeLeadSubmitSchema``. ``enqueue=False``: the
    caller validates the lead itself (a seller's post waits for its outcome)."""
    fingerprint = request_fingerprint({**payload, "vertical_id": vertical_id})
    if idempotency_key:
        earlier = by_idempotency_key(webmaster_id, idempotency_key)
        if earlier is not None:
            return replay_of(earlier, fingerprint)
    require_good_standing(webmaster_id)
    vertical = active_seller(webmaster_id, vertical_id)
    values = trim_fields(vertical.fields, payload["fields"])
    errors = field_errors(vertical.fields, values)
    if errors:
        raise Invalid("The lead's fields do not match the vertical.", fields={"fields": errors})
    country = (field_of_type(vertical.fields, values, "country") or "").upper() or None
    ip = str(payload["ip"]) if payload.get("ip") else None
    lead = Lead(
        vertical_id=vertical.id,
        webmaster_id=webmaster_id,
        fields=values,
        email_key=normalise_email(field_of_type(vertical.fields, values, "email")),
        phone_key=normalise_phone(field_of_type(vertical.fields, values, "phone"), country),
        country=country,
        ip=ip,
        ip_country=country_of(ip),
        user_agent=user_agent_of(payload, None),
        status="received",
        reason_codes=[],
        findings=[],
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        **{key: payload.get(key) for key in SUB_KEYS},
    )
    try:
        with db.session.begin_nested():
            db.session.add(lead)
    except IntegrityError:  # the same key arrived concurrently
        earlier = by_idempotency_key(webmaster_id, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return replay_of(earlier, fingerprint)
    db.session.add(Consent(lead_id=lead.id, **_consent_row(payload["consent"])))
    record_submission(lead, actor)
    if enqueue:
        enqueue_exchange_validation(lead.id)
    return Submission(lead=lead, replayed=False)


def enqueue_exchange_validation(lead_id: int) -> None:
    enqueue_after_commit(VALIDATE_JOB, lead_id, queue="validation", job_id=validation_job_id(lead_id))


def _consent_row(consent: dict) -> dict:
    given_at = consent["given_at"]
    return {
        "text": consent["text"],
        "given_at": given_at.astimezone(UTC).replace(tzinfo=None) if given_at.tzinfo else given_at,
        "ip": str(consent["ip"]) if consent.get("ip") else None,
        "page_url": consent["page_url"],
        "certificate": consent.get("certificate"),
    }
