"""Retention (docs/privacy.md): the sweep's ``sweep-privacy`` step (``flask privacy
retention`` runs it once) erases the personal data of decided leads older than their
offer's or vertical's ``retention_days``, and only theirs; duplicates stay caught while the
hashes are kept, and the hashes go once no duplicate window reaches back to them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.extensions import db
from exchange.leads.models import Consent, Lead
from exchange.privacy.models import Erasure
from tests.api.test_exchange_flow import solar_lead
from tests.api.test_exchange_flow import submit as submit_to_vertical
from tests.api.test_privacy import OTTO, ZELDA, Market, ledger
from tests.exchange_factories import make_buy_order, make_seller, make_vertical
from tests.factories import fund, make_key, make_user

pytestmark = pytest.mark.usefixtures("billing_check")
DAY = 86400


def retention(app) -> str:
    result = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def lead(lead_id: int) -> Lead:
    return db.session.get(Lead, lead_id, populate_existing=True)


def person(n: int) -> dict:
    return {
        "name": f"Person Number{n}",
        "phone": f"+1 202 555 01{n:02d}",
        "email": f"p{n}@example.com",
        "country": "US",
    }


def test_decided_offer_leads_past_their_retention_are_erased_and_no_other(app, client, ctx, frozen_clock):
    market = Market(client, retention_days=30, duplicate_window_seconds=60 * DAY)
    approved = market.approved(ZELDA)
    rejected = market.lead(OTTO)["id"]
    market.call(market.adv, "POST", f"/leads/{rejected}/reject", {"reason": "nobody answers"})
    pending = market.lead(person(1))["id"]  # never decided: kept whatever its age
    frozen_clock.advance(days=31)
    recent = market.approved(person(2))
    before = ledger()

    assert retention(app) == "retention_erased=2 hashes_forgotten=0"

    assert [lead(i).erased_at is not None for i in (approved, rejected, pending, recent)] == [
        True,
        True,
        False,
        False,
    ]
    assert lead(approved).fields == dict.fromkeys(ZELDA, "[erased]") and lead(approved).email_key is None
    assert lead(pending).fields == person(1)
    assert (lead(approved).status, lead(approved).rate_minor) == ("approved", 1500)
    assert ledger() == before
    record = db.session.scalars(select(Erasure)).one()
    assert (record.cause, record.actor_kind, record.counts["leads"], record.subject_hash) == (
        "retention", "system", 2, None
    )  # fmt: skip
    assert retention(app) == "retention_erased=0 hashes_forgotten=0"  # done once

    # Inside the duplicate window her hashes still catch her...
    again = market.lead({**person(3), "email": ZELDA["email"]})
    assert (again["status"], again["reason_codes"]) == ("rejected", ["duplicate"])
    # ...and once no window reaches back to her, they are forgotten and she is new again.
    frozen_clock.advance(days=30)
    assert retention(app).endswith("hashes_forgotten=2")
    assert (lead(approved).email_hash, lead(approved).phone_hash) == (None, None)
    assert market.lead({**person(4), "email": ZELDA["email"]})["status"] == "pending"


def test_a_window_still_open_keeps_a_decided_lead(app, client, ctx, frozen_clock):
    """An approved lead the advertiser may still return, and one under an open dispute."""
    market = Market(client, retention_days=1, return_window_seconds=5 * DAY)
    returnable = market.approved(person(1))
    disputed = market.approved(person(2))
    frozen_clock.advance(days=2)
    body = {"lead_id": disputed, "reason": "invalid_contact", "statement": "Wrong number."}
    market.call(market.adv, "POST", "/disputes", body, 201)
    frozen_clock.advance(days=4)  # the return window is over; the dispute is open

    assert retention(app).startswith("retention_erased=1")
    assert (lead(returnable).erased_at is not None, lead(disputed).erased_at) == (True, None)


def test_exchange_leads_past_their_verticals_retention_are_erased_when_nothing_is_open(
    app, client, ctx, frozen_clock
):
    vertical = make_vertical(slots=1, retention_days=10)
    seller = make_user("webmaster")
    make_seller(seller, vertical)
    key = make_key(seller)
    unsold = submit_to_vertical(client, key, vertical.id, solar_lead(1)).get_json()["id"]
    buyer = make_user("advertiser")
    fund(buyer, 10_000)
    make_buy_order(buyer, vertical, bid_minor=1000)
    in_review = submit_to_vertical(client, key, vertical.id, solar_lead(2)).get_json()["id"]
    assert (lead(unsold).status, lead(in_review).status) == ("unsold", "sold")
    frozen_clock.advance(days=11)

    assert retention(app).startswith("retention_erased=1")
    assert lead(unsold).fields["name"] == "[erased]" and lead(in_review).fields["name"] == "Ann Smith 2"
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == unsold))
    assert (consent.ip, consent.page_url) == (None, "[erased]")
