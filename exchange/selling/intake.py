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
from exchange.privacy.hashing import contact_hashes
from exchange.tracking import clickids
from exchange.tracking.geo import country_of
from exchange.tracking.models import Click
from exchange.tracking.services import SUB_KEYS, click_by_id, click_key
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
    click_id: str | None = None,
) -> Submission:
    """``payload`` was loaded through ``ExchangeLeadSubmitSchema``. ``enqueue=False``: the
    caller validates the lead itself (a seller's post waits for its outcome). ``click_id``
    (the hosted form): a click on this seller's vertical link, which the lead is tied to
    and takes its sub ids from."""
    fingerprint = request_fingerprint({**payload, "vertical_id": vertical_id})
    if idempotency_key:
        earlier = by_idempotency_key(webmaster_id, idempotency_key)
        if earlier is not None:
            return replay_of(earlier, fingerprint)
    require_good_standing(webmaster_id)
    vertical = active_seller(webmaster_id, vertical_id)
    click = _own_click(click_id, webmaster_id, vertical.id) if click_id else None
    values = trim_fields(vertical.fields, payload["fields"])
    errors = field_errors(vertical.fields, values)
    if errors:
        raise Invalid("The lead's fields do not match the vertical.", fields={"fields": errors})
    country = (field_of_type(vertical.fields, values, "country") or "").upper() or None
    ip = str(payload["ip"]) if payload.get("ip") else None
    email_key = normalise_email(field_of_type(vertical.fields, values, "email"))
    phone_key = normalise_phone(field_of_type(vertical.fields, values, "phone"), country)
    lead = Lead(
        vertical_id=vertical.id,
        webmaster_id=webmaster_id,
        fields=values,
        email_key=email_key,
        phone_key=phone_key,
        **contact_hashes(email_key, phone_key),
        country=country,
        ip=ip,
        ip_country=country_of(ip),
        user_agent=user_agent_of(payload, click),
        click_token=click_id or None,
        status="received",
        reason_codes=[],
        findings=[],
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        **{key: getattr(click, key) if click else payload.get(key) for key in SUB_KEYS},
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


def _own_click(click_id: str, webmaster_id: int, vertical_id: int) -> Click | None:
    """The click's row (None while it is still in the click buffer: its signature alone
    attributes the lead); a click id that is not this seller's on this vertical is refused."""
    claims = clickids.verify_vertical(click_key(), click_id)
    if claims is None or (claims.webmaster_id, claims.vertical_id) != (webmaster_id, vertical_id):
        raise Invalid(
            "No click on your link of this vertical has this id.",
            code="click_not_found",
            fields={"click_id": ["Unknown click id."]},
        )
    return click_by_id(click_id)


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
