"""The hosted form of a seller's vertical link: which seller a token serves, which click
ids the form carries, and a filled-in form taken in as the API takes a lead (the same
intake, validation queue and auction). Services flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.leads.checks import field_errors
from exchange.leads.intake import Submission, field_of_type
from exchange.leads.normalise import trim_fields
from exchange.selling.domain import certificate_problem, consent_text, country_problem
from exchange.selling.intake import submit_to_vertical
from exchange.tracking import clickids
from exchange.tracking.services import SUB_KEYS, click_key
from exchange.verticals.models import Vertical, VerticalSeller

FORM_ACTOR = Actor.system("hosted form")


@dataclass(frozen=True)
class Visitor:
    """What the form knows of the person who filled it in, for the lead and its consent."""

    ip: str | None
    user_agent: str | None
    page_url: str
    agreed_at: datetime  # naive UTC


def serving_seller(token: str) -> VerticalSeller | None:
    """The seller whose form this token serves: active on an active vertical, and in good
    standing itself. None otherwise (the form and its link answer 404)."""
    row = db.session.execute(
        select(VerticalSeller, Vertical.status, User.status)
        .join(Vertical, Vertical.id == VerticalSeller.vertical_id)
        .join(User, User.id == VerticalSeller.webmaster_id)
        .where(VerticalSeller.token == token)
    ).first()
    if row is None or any(status != "active" for status in (row[0].status, row[1], row[2])):
        return None
    return row[0]


def own_click_id(click_id: str, seller: VerticalSeller) -> str:
    """``click_id`` if it is a genuine click on this very seller's vertical link, else ""
    (an offer's click, another seller's, a forged one: the lead is not tied to it)."""
    claims = clickids.verify_vertical(click_key(), click_id) if click_id else None
    genuine = claims is not None and (claims.vertical_seller_id, claims.webmaster_id, claims.vertical_id) == (
        seller.id,
        seller.webmaster_id,
        seller.vertical_id,
    )
    return click_id if genuine else ""


def form_consent_text(seller: VerticalSeller) -> str:
    return consent_text(seller.vertical.name, seller.vertical.slots)


def submit_form(
    seller: VerticalSeller, values: dict, click_id: str, certificate: str | None, visitor: Visitor
) -> Submission:
    """Take a filled-in form in as the seller's lead, with its consent record. Refused whole
    (``Invalid`` with field messages, nothing written) when a field, the country or the
    certificate is wrong. ``click_id`` has been through ``own_click_id``."""
    vertical = seller.vertical
    errors = dict(field_errors(vertical.fields, trim_fields(vertical.fields, values)))  # all at once
    country_field = next((spec["name"] for spec in vertical.fields if spec["type"] == "country"), None)
    problem = country_problem(field_of_type(vertical.fields, values, "country"), vertical.allowed_countries)
    if country_field and problem and country_field not in errors:
        errors[country_field] = [problem]
    problem = certificate_problem(certificate) if certificate else None
    if problem:
        errors["certificate"] = [problem]
    if errors:
        raise Invalid("The form has errors.", fields={"fields": errors})
    payload = {
        "fields": values,
        "consent": {
            "text": form_consent_text(seller),
            "given_at": visitor.agreed_at,
            "ip": visitor.ip,
            "page_url": visitor.page_url[:2000],
            "certificate": certificate or None,
        },
        "ip": visitor.ip,
        "user_agent": (visitor.user_agent or "")[:512] or None,
        **dict.fromkeys(SUB_KEYS),
    }
    return submit_to_vertical(
        seller.webmaster_id, seller.vertical_id, payload, FORM_ACTOR, click_id=click_id or None
    )
