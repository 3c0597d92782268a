"""Advertiser delivery settings: an endpoint per advertiser, optionally per offer (the
offer's wins), each with a signing secret the server makes. (A test lead to an endpoint:
exchange/delivery/leads/sample.py.)

Services flush and never commit. A secret is returned in full only by the call that
makes it (create, rotate); it is never logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from exchange import clock
from exchange.delivery import domain
from exchange.delivery.leads import domain as webhook
from exchange.delivery.leads.models import DeliverySetting
from exchange.delivery.sender import SendResult, send
from exchange.errors import Invalid, NotFound
from exchange.extensions import db
from exchange.offers.models import Offer

ALLOW_SETTING = "DELIVERY_ALLOW_PRIVATE_ADDRESSES"


def require_own_offer(advertiser_id: int, offer_id: int) -> None:
    owner = db.session.scalar(select(Offer.advertiser_id).where(Offer.id == offer_id))
    if owner != advertiser_id:
        raise NotFound("No such offer.")


def setting_of(advertiser_id: int, offer_id: int | None) -> DeliverySetting | None:
    """The advertiser's global endpoint (``offer_id`` None) or one offer's."""
    if offer_id is not None:
        require_own_offer(advertiser_id, offer_id)
    query = select(DeliverySetting).where(DeliverySetting.advertiser_id == advertiser_id)
    if offer_id is None:
        return db.session.scalar(query.where(DeliverySetting.offer_id.is_(None)))
    return db.session.scalar(query.where(DeliverySetting.offer_id == offer_id))


def setting_for(advertiser_id: int, offer_id: int) -> DeliverySetting | None:
    """The endpoint a lead of ``offer_id`` goes to: the offer's, else the advertiser's global one."""
    return domain.override_or_global(settings_by_advertiser({advertiser_id}).get(advertiser_id, []), offer_id)


def settings_by_advertiser(advertiser_ids: set[int]) -> dict[int, list[DeliverySetting]]:
    rows = db.session.scalars(
        select(DeliverySetting).where(DeliverySetting.advertiser_id.in_(advertiser_ids))
    )
    by_advertiser: dict[int, list[DeliverySetting]] = {}
    for row in rows:
        by_advertiser.setdefault(row.advertiser_id, []).append(row)
    return by_advertiser


@dataclass(frozen=True)
class SavedSetting:
    setting: DeliverySetting
    secret: str | None  # the full secret, only when this call made it


def put_setting(advertiser_id: int, offer_id: int | None, url: str) -> SavedSetting:
    """Set the endpoint's URL; a new endpoint gets a new secret (an existing one keeps its own)."""
    problem = webhook.url_problem(url)
    if problem:
        raise Invalid("The delivery URL cannot be saved.", fields={"url": [f"Must be {problem}."]})
    setting = setting_of(advertiser_id, offer_id)
    secret = None
    if setting is None:
        secret = webhook.generate_secret()
        setting = DeliverySetting(
            advertiser_id=advertiser_id,
            offer_id=offer_id,
            signing_secret=secret,
            secret_created_at=clock.now(),
        )
        db.session.add(setting)
    setting.url = url
    setting.updated_at = clock.now()
    db.session.flush()
    return SavedSetting(setting, secret)


def rotate_secret(advertiser_id: int, offer_id: int | None) -> SavedSetting:
    """A new secret at once; the old one stops signing with this call's commit."""
    setting = setting_of(advertiser_id, offer_id)
    if setting is None:
        raise NotFound("No delivery settings here yet: PUT a URL first.")
    secret = webhook.generate_secret()
    setting.signing_secret = secret
    setting.secret_created_at = setting.updated_at = clock.now()
    db.session.flush()
    return SavedSetting(setting, secret)


def remove_setting(advertiser_id: int, offer_id: int | None) -> None:
    setting = setting_of(advertiser_id, offer_id)
    if setting is not None:
        db.session.delete(setting)
        db.session.flush()


def post_signed(url: str, secret: str, body: bytes, event: str) -> SendResult:
    """One signed POST, timestamped now (each attempt signs afresh)."""
    headers = webhook.signed_headers(secret, int(time.time()), body, event)
    return send(
        url,
        method="POST",
        body=body,
        headers=headers,
        timeout=current_app.config["DELIVERY_TIMEOUT_SECONDS"],
        allow_private=current_app.config[ALLOW_SETTING],
        user_agent=webhook.USER_AGENT,
        read_bytes=webhook.MAX_ANSWER_BYTES,
        setting=ALLOW_SETTING,
    )
