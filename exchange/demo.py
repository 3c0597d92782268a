"""``flask demo seed``: a small, believable marketplace to click through.

Everything goes through the same services as real traffic, so the demo
also shows that the loop works: an advertiser with a balance and two
offers (one in a currency it has no money in), a webmaster who joined
both, clicks, and leads in every state, plus a payout waiting to be paid, an
appeal in the moderators' queue, a return waiting for the webmaster's answer and
a new webmaster waiting for a moderator's approval; and the exchange
(exchange/demo_exchange.py): verticals, buy orders and auctions of every outcome.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from billing.payouts.services import request_payout
from billing.services import credit_advertiser
from exchange import clock, jobs
from exchange.accounts.models import User
from exchange.accounts.services import create_api_key, create_user
from exchange.actors import Actor
from exchange.db import commit
from exchange.demo_exchange import seed_exchange
from exchange.disputes.services import answer_dispute, open_dispute
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead, return_lead
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead
from exchange.offers.services import create_offer, join_offer
from exchange.periodic import sweep
from exchange.reports.jobs import fold_job
from exchange.tracking.conversions.services import issue_token, report_conversion
from exchange.tracking.links import target_of
from exchange.tracking.services import record_click

# Valid numbers of each demo country (numbers with no country of their own are flagged).
PHONES = {
    "US": "+1 202 555 01{n:02d}",
    "CA": "+1 416 555 01{n:02d}",
    "DE": "+49 30 901234 {n:02d}",
    "AT": "+43 1 512345 {n:02d}",
    "FR": "+33 1 42 68 53 {n:02d}",
}
PEOPLE = (  # (who, role, email, name)
    ("advertiser", "advertiser", "advertiser@demo.test", "Solar & Sons (advertiser)"),
    ("webmaster", "webmaster", "webmaster@demo.test", "Traffic Garden (webmaster)"),
    ("moderator", "moderator", "moderator@demo.test", "Mo Derator"),
    ("admin", "admin", "admin@demo.test", "Ada Admin"),
    ("buyer", "advertiser", "buyer@demo.test", "Sunny Installers (exchange buyer)"),
)
# A webmaster who signed up and waits for a moderator's approval (no key: it sends nothing yet).
NEWCOMER = ("newcomer", "webmaster", "newcomer@demo.test", "New Traffic Co (pending webmaster)")
PASSWORD = "demo-password"  # a demo database only; never a real account
CONTACT_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": True},
    {"name": "country", "type": "country", "required": True},
]


def credentials_path() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.txt"


def seed() -> str:
    """The demo's data; its jobs run in this process as they are asked for, with Redis too
    (each step needs the leads the one before validated)."""
    with jobs.in_process():
        return _seed()


def _seed() -> str:
    if db.session.scalar(select(func.count()).select_from(User)):
        path = credentials_path()
        saved = path.read_text() if path.exists() else "(the demo credentials file is missing)\n"
        return "The database already has users; nothing seeded.\n" + saved
    # approved from the start: the demo's webmaster sends traffic whatever WEBMASTER_APPROVAL says
    users = {
        who: create_user(email, name, role, PASSWORD, status="active") for who, role, email, name in PEOPLE
    }
    keys = {who: create_api_key(user.id, "demo key").secret for who, user in users.items()}
    commit()
    advertiser, webmaster = users["advertiser"], users["webmaster"]
    as_webmaster = Actor(kind="user", user_id=webmaster.id, label="demo")
    as_advertiser = Actor(kind="user", user_id=advertiser.id, label="demo")

    credit_advertiser(advertiser.id, "USD", 50_000, "demo-wire-001")
    canada = {"id": "canada", "country": "CA", "rate_minor": 1200, "payout_minor": 800}
    solar = create_offer(
        advertiser.id,
        _offer("Solar panel quotes (US, CA)", "USD", 1500, 1000, ["US", "CA"]) | {"payout_rules": [canada]},
    )
    shop = create_offer(
        advertiser.id,
        _offer("Garden shop sales (10 % of each sale)", "USD", None, None, [])
        | {"model": "cps", "rate_bps": 1000, "payout_bps": 700, "fields": []},
    )
    postback_token = issue_token(advertiser.id)
    # Its decided leads' personal data is erased by the sweep after 180 days (docs/privacy.md).
    insurance = create_offer(
        advertiser.id,
        _offer("Car insurance (DE, AT)", "EUR", 2000, 1500, ["DE", "AT"]) | {"retention_days": 180},
    )
    solar_link = join_offer(webmaster.id, solar.id)
    insurance_link = join_offer(webmaster.id, insurance.id)
    shop_link = join_offer(webmaster.id, shop.id)
    commit()

    def lead(participation, n: int, country: str, **extra):
        """A visitor clicks, reads the landing page for a few minutes, then leaves a lead."""
        frozen, submitted_at = clock.frozen_at(), clock.now()
        clock.freeze(submitted_at - timedelta(minutes=3))
        try:
            subs = {"sub1": "summer", "sub2": f"ad{n % 3}"}
            click_id = record_click(target_of(participation), subs, "203.0.113.7", "Mozilla/5.0").click_id
        finally:
            clock.freeze(None if frozen is None else submitted_at)
        fields = {
            "name": f"Visitor {n}",
            "phone": PHONES[country].format(n=n),
            "email": f"visitor{n}@example.com",
            "country": country,
        } | extra
        submitted = submit_lead(webmaster.id, {"click_id": click_id, "fields": fields}, as_webmaster).lead
        commit()  # validation runs now (in-process) or on a worker
        return db.session.get(Lead, submitted.id)

    # Three weeks ago: leads that were approved, one returned, holds now over.
    clock.freeze(clock.now() - timedelta(days=21))
    try:
        old = [lead(solar_link, n, "US") for n in range(1, 5)]
        for item in old:
            approve_lead(item.id, as_advertiser, note="good contact")
        return_lead(old[3].id, as_advertiser, note="customer never asked for a quote")
        commit()
    finally:
        clock.freeze(None)
    sweep()  # releases the holds that ended
    request_payout(webmaster.id, "USD", 2000)
    commit()

    # Today: leads waiting for review, rejected ones, one not yet validated.
    lead(solar_link, 5, "US")
    returned_soon = lead(solar_link, 6, "CA")
    rejected = lead(solar_link, 7, "US")
    reject_lead(rejected.id, as_advertiser, note="phone disconnected")
    approve_lead(returned_soon.id, as_advertiser, note="looks fine")
    commit()
    _disputes(users, rejected.id, returned_soon.id)
    lead(solar_link, 5, "US")  # the same person again: duplicate
    lead(solar_link, 8, "FR")  # outside the offer's countries
    lead(insurance_link, 9, "DE")  # no EUR balance: awaiting funds
    lead(insurance_link, 10, "AT")
    sale_click = record_click(target_of(shop_link), {"sub1": "spring"}, "203.0.113.8", "Mozilla/5.0").click_id
    sale = {"click_id": sale_click, "txid": "demo-order-1001", "status": "approved", "amount": "129.00"}
    report_conversion(advertiser.id, sale | {"currency": "USD"})  # as the shop's server would
    commit()
    click_id = record_click(target_of(solar_link), {"sub1": "late"}, "203.0.113.9", "Mozilla/5.0").click_id
    fields = {"name": "Visitor 11", "phone": "+1 202 555 0111", "email": "v11@example.com", "country": "US"}
    submit_lead(webmaster.id, {"click_id": click_id, "fields": fields}, as_webmaster)
    db.session.commit()
    jobs.discard_pending()  # leave this one `received`, as if no worker had run yet
    seed_exchange(webmaster, advertiser, users["buyer"])
    fold_job()  # the reports and dashboards show the demo at once, not after the first fold

    text = _credentials_text(keys) + f"Advertiser's conversion postback token: {postback_token}\n"
    credentials_path().parent.mkdir(parents=True, exist_ok=True)
    credentials_path().write_text(text)
    return "Seeded the demo.\n" + text


def _disputes(users: dict[str, User], rejected_id: int, approved_id: int) -> None:
    """An appeal the advertiser contested (in the moderators' queue), a return request
    waiting for the webmaster's answer, and a new webmaster waiting for approval."""
    advertiser, webmaster = users["advertiser"], users["webmaster"]
    as_webmaster = Actor(kind="user", user_id=webmaster.id, label="demo")
    as_advertiser = Actor(kind="user", user_id=advertiser.id, label="demo")
    statement = "The visitor answered our confirmation call; the recording is available."
    appeal = open_dispute(webmaster, as_webmaster, rejected_id, "contact_valid", statement)
    answer_dispute(advertiser, as_advertiser, appeal.id, False, "Three calls, all to a disconnected line.")
    open_dispute(
        advertiser, as_advertiser, approved_id, "did_not_request", "The person says she never asked."
    )
    _, role, email, name = NEWCOMER
    create_user(email, name, role, PASSWORD, status="pending")
    commit()


def _offer(name: str, currency: str, rate: int | None, payout: int | None, countries: list[str]) -> dict:
    return {
        "name": name,
        "model": "cpl",
        "currency": currency,
        "rate_minor": rate,
        "payout_minor": payout,
        "allowed_countries": countries,
        "fields": CONTACT_FIELDS,
        "landing_url": "https://landing.example.com/quote?cid={click_id}&s1={sub1}",
        "status": "active",
        "duplicate_window_seconds": 30 * 86400,
        "review_window_seconds": 3 * 86400,
        "hold_seconds": 14 * 86400,
    }


def _credentials_text(keys: dict[str, str]) -> str:
    lines = [f"Demo logins (password for all: {PASSWORD}):"]
    lines += [f"  {who:<10} {email}" for who, _, email, _ in PEOPLE]
    who, _, email, _ = NEWCOMER
    lines.append(f"  {who:<10} {email}  (waits for a moderator's approval: approve it as moderator)")
    lines.append("Demo API keys (send as 'Authorization: Bearer <key>'):")
    lines += [f"  {who:<10} {keys[who]}" for who, _, _, _ in PEOPLE]
    return "\n".join(lines) + "\n"
