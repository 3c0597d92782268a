"""Build test data through the real services (inside an app context)."""

from __future__ import annotations

import itertools

from billing.services import credit_advertiser
from exchange.accounts.models import User
from exchange.accounts.services import create_api_key, create_user
from exchange.db import commit
from exchange.offers.models import Offer, Participation
from exchange.offers.services import create_offer, join_offer
from exchange.tracking.links import target_of
from exchange.tracking.models import Click
from exchange.tracking.services import click_by_id, record_click

_serial = itertools.count(1)

CONTACT_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": True},
    {"name": "country", "type": "country", "required": True},
]


def make_user(role: str) -> User:
    n = next(_serial)
    email, name = f"{role}{n}@example.test", f"{role} {n}"
    user = create_user(email, name, role, "correct-horse-battery", status="active")  # approved already
    commit()
    return user


def make_key(user: User) -> str:
    secret = create_api_key(user.id, "test").secret
    commit()
    return secret


def auth(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def offer_data(**overrides) -> dict:
    data = {
        "name": "Solar quotes",
        "model": "cpl",
        "currency": "USD",
        "rate_minor": 1500,
        "payout_minor": 1000,
        "allowed_countries": ["US", "CA"],
        "fields": CONTACT_FIELDS,
        "landing_url": "https://landing.example.com/q?cid={click_id}&s={sub1}",
        "status": "active",
        "duplicate_window_seconds": 30 * 86400,
        "review_window_seconds": 3 * 86400,
        "hold_seconds": 14 * 86400,
    }
    data.update(overrides)
    return data


def make_offer(advertiser: User, **overrides) -> Offer:
    offer = create_offer(advertiser.id, offer_data(**overrides))
    commit()
    return offer


def fund(advertiser: User, amount_minor: int, currency: str = "USD") -> None:
    credit_advertiser(advertiser.id, currency, amount_minor, f"test-{next(_serial)}")
    commit()


def make_join(webmaster: User, offer: Offer) -> Participation:
    participation = join_offer(webmaster.id, offer.id)
    commit()
    return participation


def make_click(participation: Participation, **subs: str) -> Click:
    outcome = record_click(target_of(participation), subs, "198.51.100.4", "Mozilla/5.0 (test)")
    commit()
    return click_by_id(outcome.click_id)


def lead_fields(n: int | None = None, country: str = "US") -> dict:
    n = next(_serial) if n is None else n
    return {
        "name": f"Person {n}",
        "phone": f"+1 202 555 {n % 10000:04d}",
        "email": f"person{n}@example.com",
        "country": country,
    }


def balance(client, key: str, purpose: str, currency: str = "USD") -> dict:
    """The caller's account of ``purpose`` as GET /api/v1/balance shows it (zeros if none yet)."""
    response = client.get("/api/v1/balance", headers=auth(key))
    assert response.status_code == 200, response.get_json()
    rows = [row for row in response.get_json() if row["purpose"] == purpose and row["currency"] == currency]
    if not rows:
        return {"posted_minor": 0, "available_minor": 0, "pending_in_minor": 0, "pending_out_minor": 0}
    (row,) = rows
    return row
