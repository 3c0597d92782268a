"""The inbound conversion postback: an advertiser reports a cpa action or a cps sale.

The advertiser's server calls ``/postback`` with its postback token, the click id the
visitor arrived with, its own transaction id (``txid``) and the conversion's status.
A new txid becomes a lead of kind conversion that enters the validation queue like any
lead; a txid seen before creates nothing: with the same status it answers the same
conversion, with another status it is the advertiser's decision on it (approve, reject).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange import clock
from exchange.actors import Actor
from exchange.errors import Conflict, Forbidden, Invalid
from exchange.extensions import db
from exchange.leads.domain import AWAITING_FUNDS, PENDING, RECEIVED
from exchange.leads.intake import enqueue_validation
from exchange.leads.models import Lead
from exchange.leads.transitions import record_submission
from exchange.money import parse_major
from exchange.offers.models import Offer, Participation
from exchange.tracking import clickids
from exchange.tracking.models import PostbackToken
from exchange.tracking.services import SUB_KEYS, click_by_id, click_key

TOKEN_PREFIX = "pb_"
REPORTED_STATUSES = ("approved", "pending", "rejected")
MAX_ALLOWLIST = 50


@dataclass(frozen=True)
class Reported:
    lead: Lead
    replayed: bool


def issue_token(advertiser_id: int) -> str:
    """A new postback token for the advertiser, replacing any earlier one. Shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    settings = settings_of(advertiser_id)
    if settings is None:
        settings = PostbackToken(advertiser_id=advertiser_id, ip_allowlist=[])
        db.session.add(settings)
    settings.token_hash = _digest(token)
    settings.created_at = clock.now()
    db.session.flush()
    return token


def settings_of(advertiser_id: int) -> PostbackToken | None:
    return db.session.scalar(select(PostbackToken).where(PostbackToken.advertiser_id == advertiser_id))


def set_ip_allowlist(advertiser_id: int, entries: list[str]) -> PostbackToken:
    """Addresses or networks (``203.0.113.7``, ``203.0.113.0/24``) postbacks may come from."""
    settings = settings_of(advertiser_id)
    if settings is None:
        raise Invalid("Create a postback token first.", code="no_postback_token")
    problems = [entry for entry in entries if _network(entry) is None]
    if problems or len(entries) > MAX_ALLOWLIST:
        raise Invalid(
            "The allowlist takes up to 50 IP addresses or networks.",
            fields={"ip_allowlist": [f"Not an address or network: {entry}" for entry in problems[:5]]},
        )
    settings.ip_allowlist = [str(_network(entry)) for entry in entries]
    db.session.flush()
    return settings


def authorise(token: str, remote_ip: str | None) -> int:
    """The advertiser a postback comes from; 403 for a wrong token or an address not allowed."""
    settings = db.session.scalar(
        select(PostbackToken).where(PostbackToken.token_hash == _digest(token or ""))
    )
    if settings is None:
        raise Forbidden("Unknown postback token.", code="bad_postback_token")
    if settings.ip_allowlist and not _allowed(remote_ip, settings.ip_allowlist):
        raise Forbidden("Postbacks with this token may not come from this address.", code="ip_not_allowed")
    return settings.advertiser_id


def report_conversion(advertiser_id: int, data: dict) -> Reported:
    """``data`` was loaded through ``PostbackSchema``. A new txid is stored and queued for
    validation; a known one creates nothing (see the module's docstring)."""
    earlier = _by_txid(advertiser_id, data["txid"])
    if earlier is not None:
        return _update(earlier, data)
    claims = clickids.verify(click_key(), data.get("click_id") or "")
    participation = claims and db.session.get(Participation, claims.participation_id)
    if participation is None or participation.offer.advertiser_id != advertiser_id:
        raise Invalid(
            "No click with this id came to your offers.",
            code="click_not_found",
            fields={"click_id": ["Unknown click id."]},
        )
    if participation.status != "active":  # a declined or banned webmaster earns nothing more
        raise Invalid(
            "This click's webmaster may not send traffic to the offer now.", code="participation_inactive"
        )
    offer = participation.offer
    if offer.model == "cpl":
        raise Invalid(
            "A cpl offer pays for leads, not for reported conversions.", code="offer_takes_no_conversions"
        )
    amount = _amount(offer, data)
    click = click_by_id(data["click_id"])
    lead = Lead(
        offer_id=offer.id,
        advertiser_id=advertiser_id,
        webmaster_id=participation.webmaster_id,
        click_token=data["click_id"],
        fields={},
        ip=click.ip if click else None,
        ip_country=click.country if click else None,
        status=RECEIVED,
        reason_codes=[],
        findings=[],
        txid=data["txid"],
        sale_amount_minor=amount,
        reported_status=data["status"],
        **{key: getattr(click, key) if click else None for key in SUB_KEYS},
    )
    try:
        with db.session.begin_nested():
            db.session.add(lead)
    except IntegrityError:  # the same txid arrived concurrently
        return Reported(_by_txid(advertiser_id, data["txid"]), replayed=True)
    record_submission(lead, _actor(advertiser_id))
    enqueue_validation(lead.id)
    return Reported(lead, replayed=False)


def _update(lead: Lead, data: dict) -> Reported:
    """A known txid: the same status answers the same; another one is a decision."""
    from exchange.leads.decisions import approve_lead, reject_lead

    status = data["status"]
    if status == lead.reported_status:
        return Reported(lead, replayed=True)
    may_change = lead.status in (RECEIVED, PENDING) or (
        lead.status == AWAITING_FUNDS and status == "approved"
    )
    if status == "pending" or not may_change:
        raise Conflict(
            f"This conversion is {lead.status}; it cannot be reported {status} now.",
            code="illegal_status_change",
        )
    lead.reported_status = status  # validation, or funding, applies it to a lead not yet pending
    db.session.flush()
    if lead.status == PENDING:
        decide = approve_lead if status == "approved" else reject_lead
        decide(lead.id, _actor(lead.advertiser_id), note=f"reported {status} by postback")
    return Reported(lead, replayed=True)


def _amount(offer: Offer, data: dict) -> int | None:
    """The sale amount in minor units: required for cps, kept for cpa when sent."""
    currency = offer.currency
    if data.get("currency") and data["currency"] != currency:
        raise Invalid(
            f"This offer pays in {currency}; amounts are never converted.",
            fields={"currency": [f"Must be {currency}."]},
        )
    if not data.get("amount"):
        if offer.model == "cps":
            raise Invalid("A sale needs its amount.", fields={"amount": ["Required."]})
        return None
    try:
        return parse_major(data["amount"], currency)
    except ValueError as error:
        raise Invalid("The amount is not valid.", fields={"amount": [str(error)]}) from None


def _by_txid(advertiser_id: int, txid: str) -> Lead | None:
    return db.session.scalar(select(Lead).where(Lead.advertiser_id == advertiser_id, Lead.txid == txid))


def _actor(advertiser_id: int) -> Actor:
    return Actor(kind="user", user_id=advertiser_id, label="conversion postback")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(entry).strip(), strict=False)
    except ValueError:
        return None


def _allowed(remote_ip: str | None, allowlist: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(remote_ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry) for entry in allowlist)
