"""The admins' pages (issue 7, point 5), driven with the test client: manual credits,
payouts settled one by one and in batches with their CSV, users (created, filtered,
deactivated with the reason in the audit log), the ledger check, failed jobs.
Every action is a CSRF-protected POST (checked with CSRF switched on)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from billing import check
from billing.models import Transfer
from billing.payouts.models import Payout
from billing.services import balances_of
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.moderation.audit.models import ModerationAction
from exchange.words import word
from tests.api.test_payouts import Webmaster
from tests.api.test_web_portal import PASSWORD, login, request
from tests.factories import auth, lead_fields, make_join, make_key, make_offer, make_user

pytestmark = pytest.mark.usefixtures("billing_check")


def page(app, client, path: str) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return unescape(response.get_data(as_text=True).split("<body", 1)[1])


def post(app, client, path: str, form: dict, then: str) -> str:
    """POST a form, expect the 303 back to ``then``, and answer that page (with the flash)."""
    response = request(app, client, "POST", path, data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].split("?")[0].endswith(then)
    return page(app, client, then)


@pytest.fixture
def admin(app, client, ctx) -> User:
    user = make_user("admin")
    assert login(app, client, user.email).status_code == 302
    return user


def available(user: User, currency: str = "USD") -> int:
    rows = [b for b in balances_of(user.id) if b.purpose == "available" and b.currency == currency]
    return rows[0].available_minor if rows else 0


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- access and CSRF ---------------------------------------------------------------------------

ADMIN_PAGES = ("/admin/", "/admin/users", "/admin/credits", "/admin/payouts", "/admin/ledger", "/admin/jobs")


def test_only_admins_open_the_admin_pages(app, client, ctx):
    for path in ADMIN_PAGES:
        assert request(app, client, "GET", path).status_code == 302, path  # signed out: to the login page
    for role in ("moderator", "advertiser", "webmaster"):
        login(app, client, make_user(role).email)
        for path in ADMIN_PAGES:
            assert request(app, client, "GET", path).status_code == 403, (role, path)
        assert request(app, client, "POST", "/admin/credits", data={}).status_code == 403
        request(app, client, "POST", "/logout")


def test_every_admin_page_links_the_others(app, client, admin):
    for path in ADMIN_PAGES:
        body = page(app, client, path)
        for other in ADMIN_PAGES[1:]:
            assert f'href="{other}"' in body, (path, other)


def test_a_post_without_the_csrf_token_is_refused_and_one_with_it_goes_through(
    app, client, admin, monkeypatch
):
    advertiser = make_user("advertiser")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the testing config turns it off
    form = {"advertiser": advertiser.email, "currency": "USD", "amount": "10", "reference": "csrf-1"}

    assert request(app, client, "POST", "/admin/credits", data=form).status_code == 400
    assert available(advertiser) == 0

    body = page(app, client, "/admin/credits")
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert (
        request(app, client, "POST", "/admin/credits", data=form | {"csrf_token": token}).status_code == 303
    )
    assert available(advertiser) == 1000
    for path in ("/admin/users", "/admin/payouts"):
        forms = re.findall(r'<form method="post".*?</form>', page(app, client, path), re.S)
        assert forms and all('name="csrf_token"' in form for form in forms), path


# --- manual credits ----------------------------------------------------------------------------


def test_a_credit_in_major_units_is_credited_once_per_reference(app, client, admin):
    advertiser = make_user("advertiser")
    body = page(app, client, "/admin/credits")
    assert 'action="/admin/credits"' in body and "No credits yet." in body
    reference = re.search(r'name="reference" required maxlength="80" value="(manual-[0-9a-f]+)"', body).group(
        1
    )
    form = {
        "advertiser": advertiser.email.upper(),
        "currency": "usd",
        "amount": "250.50",
        "reference": reference,
    }

    first = post(app, client, "/admin/credits", form, "/admin/credits")
    again = post(app, client, "/admin/credits", form, "/admin/credits")  # the form sent twice

    assert f"Credited 250.50 USD to {advertiser.email} (reference {reference})." in first
    assert f"Reference {reference} was credited already: nothing changed." in again
    assert available(advertiser) == 25_050
    assert db.session.get(Transfer, f"topup:{reference}").amount_minor == 25_050
    assert f"<td>{advertiser.email} (#{advertiser.id})</td>" in again and f"<td>{reference}</td>" in again


def test_an_advertiser_is_found_by_id_and_a_currency_keeps_its_decimals(app, client, admin):
    advertiser = make_user("advertiser")
    form = {"advertiser": str(advertiser.id), "currency": "JPY", "amount": "5000", "reference": "wire-jpy-1"}

    body = post(app, client, "/admin/credits", form, "/admin/credits")

    assert "Credited 5,000 JPY" in body
    assert available(advertiser, "JPY") == 5000


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("advertiser", "nobody@example.test", "no advertiser with that email or id"),
        ("advertiser", "webmaster", "no advertiser with that email or id"),
        ("advertiser", "99999999999", "no advertiser with that email or id"),
        ("currency", "US", "the currency is a three-letter code"),
        ("amount", "12.345", "USD has 2 decimal places"),
        ("amount", "-5", "write the amount like 120.00"),
        ("amount", "0", "must be above zero"),
        ("amount", "99999999999", "below ten billion"),
        ("reference", " ", "the reference is 1 to 80 characters"),
        ("reference", "r" * 81, "the reference is 1 to 80 characters"),
    ],
)
def test_a_bad_credit_form_is_refused_with_its_reason(app, client, admin, field, value, message):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    form = {"advertiser": advertiser.email, "currency": "USD", "amount": "10.00", "reference": "bad-1"}
    form[field] = webmaster.email if value == "webmaster" else value
    transfers = count(Transfer)

    body = post(app, client, "/admin/credits", form, "/admin/credits")

    assert "Not done: " in body and message in body
    assert count(Transfer) == transfers


def test_a_reference_used_for_another_amount_is_refused(app, client, admin):
    advertiser = make_user("advertiser")
    form = {"advertiser": advertiser.email, "currency": "USD", "amount": "10", "reference": "wire-9"}
    post(app, client, "/admin/credits", form, "/admin/credits")

    body = post(app, client, "/admin/credits", form | {"amount": "11"}, "/admin/credits")

    assert "Not done: " in body and "Credited" not in body
    assert available(advertiser) == 1000


def test_a_credit_funds_the_leads_waiting_for_money(app, client, admin):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    wm_key = make_key(webmaster)
    waiting = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(wm_key)
    ).get_json()
    assert waiting["status"] == "awaiting_funds"
    form = {"advertiser": advertiser.email, "currency": "USD", "amount": "100", "reference": "wire-10"}

    post(app, client, "/admin/credits", form, "/admin/credits")

    lead = client.get(f"/api/v1/leads/{waiting['id']}", headers=auth(wm_key)).get_json()
    assert lead["status"] == "pending"


# --- payouts -----------------------------------------------------------------------------------


def requested_payout(client, amount_minor: int = 2000, currency: str = "USD") -> tuple[Webmaster, int]:
    earner = Webmaster(client)
    earner.earn(amount_minor, currency)
    response = earner.request_payout(amount_minor, currency)
    assert response.status_code == 201, response.get_json()
    return earner, response.get_json()["id"]


def test_a_requested_payout_is_listed_and_settled_paid_once(app, client, admin):
    earner, payout_id = requested_payout(client)
    body = page(app, client, "/admin/payouts")
    assert f"<td>{payout_id}</td><td>{earner.user.email} (#{earner.id})</td>" in body
    assert f'action="/admin/payouts/{payout_id}/settle"' in body
    home = page(app, client, "/admin/")
    assert "<td>USD</td><td>1</td><td>20.00 USD</td>" in home and 'href="/admin/payouts"' in home

    paid = post(app, client, f"/admin/payouts/{payout_id}/settle", {"outcome": "paid"}, "/admin/payouts")
    other = post(app, client, f"/admin/payouts/{payout_id}/settle", {"outcome": "failed"}, "/admin/payouts")

    assert f"Payout {payout_id}: paid." in paid
    assert "Not done: The payout is already paid." in other
    payout = db.session.get(Payout, payout_id)
    assert (payout.status, payout.settled_by_id) == ("paid", admin.id)
    assert earner.available() == 0 and earner.pending_out() == 0


def test_a_failed_payout_gives_the_money_back_and_a_bad_outcome_changes_nothing(app, client, admin):
    earner, payout_id = requested_payout(client)

    nothing = post(app, client, f"/admin/payouts/{payout_id}/settle", {"outcome": "lost"}, "/admin/payouts")
    failed = post(
        app, client, f"/admin/payouts/{payout_id}/settle", {"outcome": "failed", "note": "IBAN closed"},
        "/admin/payouts",
    )  # fmt: skip

    assert "Not done: choose paid or failed." in nothing
    assert f"Payout {payout_id}: failed." in failed
    assert db.session.get(Payout, payout_id).note == "IBAN closed"
    assert earner.available() == 2000


def test_a_batch_is_created_downloaded_as_the_apis_csv_and_settled(app, client, admin):
    (_, first), (_, second) = requested_payout(client, 2000), requested_payout(client, 3050)
    assert "<option>USD</option>" in page(app, client, "/admin/payouts")

    created = post(app, client, "/admin/payouts/batches", {"currency": "USD"}, "/admin/payouts")

    batch_id = int(re.search(r"Batch (\d+): 2 payout\(s\), 50.50 USD\.", created).group(1))
    assert "No requested manual payouts outside a batch." in created
    assert f'href="/admin/payouts/batches/{batch_id}.csv"' in created
    with app.app_context():  # a streamed body: read it before the next request
        download = client.get(f"/admin/payouts/batches/{batch_id}.csv")
        text = download.get_data(as_text=True)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == f'attachment; filename="payout-batch-{batch_id}.csv"'
    key = make_key(admin)
    with app.app_context():
        api = client.get(f"/api/v1/admin/payout-batches/{batch_id}.csv", headers=auth(key))
        assert text == api.get_data(as_text=True)
    assert text.count("\r\n") == 3 and "50.50" not in text and ",30.50,USD," in text

    settled = post(
        app, client, f"/admin/payouts/batches/{batch_id}/settle", {"outcome": "paid"}, "/admin/payouts"
    )
    again = post(
        app, client, f"/admin/payouts/batches/{batch_id}/settle", {"outcome": "paid"}, "/admin/payouts"
    )

    assert f"Batch {batch_id}: 2 payout(s) paid." in settled
    assert f"Batch {batch_id}: 0 payout(s) paid, 2 were already." in again
    assert {db.session.get(Payout, i).status for i in (first, second)} == {"paid"}


def test_a_batch_with_nothing_to_gather_and_an_unknown_batch_are_refused(app, client, admin):
    body = post(app, client, "/admin/payouts/batches", {"currency": "EUR"}, "/admin/payouts")
    assert "Not done: No requested manual payouts in EUR to batch." in body
    assert "No batches yet." in body
    assert "Not done: No such payout batch." in post(
        app, client, "/admin/payouts/batches/999999/settle", {"outcome": "paid"}, "/admin/payouts"
    )
    assert request(app, client, "GET", "/admin/payouts/batches/999999.csv").status_code == 404


# --- users -------------------------------------------------------------------------------------


def test_users_are_listed_with_role_status_and_filtered_by_role(app, client, admin):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")

    everyone = page(app, client, "/admin/users")
    advertisers = page(app, client, "/admin/users?role=advertiser")

    assert f"<td>{webmaster.id}</td><td>{webmaster.email}</td>" in everyone
    assert (
        f"<td>{advertiser.email}</td><td>{advertiser.name}</td><td>advertiser</td><td>active</td>" in everyone
    )
    assert advertiser.email in advertisers and webmaster.email not in advertisers
    assert '<option value="advertiser" selected>' in advertisers


def test_an_admin_creates_a_user_who_can_sign_in(app, client, admin):
    form = {
        "email": "New.Buyer@Example.test",
        "name": "New buyer",
        "role": "advertiser",
        "password": "long-enough-1",
    }

    body = post(app, client, "/admin/users", form, "/admin/users")
    duplicate = post(app, client, "/admin/users", form, "/admin/users")
    short = post(
        app, client, "/admin/users", form | {"email": "x@example.test", "password": "short"}, "/admin/users"
    )

    assert re.search(r"User \d+ created: new.buyer@example.test \(advertiser, active\)\.", body)
    assert "Not done: A user with email new.buyer@example.test exists." in duplicate
    assert "Not done: The user is not valid. At least 12 characters." in short
    request(app, client, "POST", "/logout")
    assert login(app, client, "new.buyer@example.test", "long-enough-1").status_code == 302


def test_deactivating_records_the_reason_and_locks_the_user_out_until_reactivated(app, client, admin):
    webmaster = make_user("webmaster")
    key = make_key(webmaster)
    path = f"/admin/users/{webmaster.id}"

    refused = post(app, client, f"{path}/deactivate", {"reason": " "}, "/admin/users")
    done = post(app, client, f"{path}/deactivate", {"reason": "Chargeback fraud"}, "/admin/users")
    post(app, client, f"{path}/deactivate", {"reason": "again"}, "/admin/users")  # already: nothing more

    assert "Not done: Say why. Required." in refused
    assert f"User {webmaster.id}: deactivated." in done
    assert f'action="{path}/reactivate"' in done
    db.session.refresh(webmaster)
    assert webmaster.is_active_user is False
    assert client.get("/api/v1/balance", headers=auth(key)).status_code == 401
    audit = db.session.scalars(
        select(ModerationAction).where(ModerationAction.subject_id == webmaster.id)
    ).all()
    assert [(a.action, a.subject_type, a.reason, a.actor_user_id) for a in audit] == [
        ("deactivate_user", "user", "Chargeback fraud", admin.id)
    ]

    post(app, client, f"{path}/reactivate", {"reason": "Cleared by the bank"}, "/admin/users")

    db.session.refresh(webmaster)
    assert webmaster.is_active_user is True
    assert client.get("/api/v1/balance", headers=auth(key)).status_code == 200
    actions = db.session.scalars(
        select(ModerationAction.action)
        .where(ModerationAction.subject_id == webmaster.id)
        .order_by(ModerationAction.id)
    ).all()
    assert actions == ["deactivate_user", "reactivate_user"]


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(app, client, admin):
    other_admin = make_user("admin")
    post(
        app,
        client,
        f"/admin/users/{other_admin.id}/deactivate",
        {"reason": "Left the company"},
        "/admin/users",
    )
    request(app, client, "POST", "/logout")

    assert login(app, client, other_admin.email, PASSWORD).status_code == 401


def test_an_admin_cannot_deactivate_itself_nor_an_unknown_user(app, client, admin):
    own = post(app, client, f"/admin/users/{admin.id}/deactivate", {"reason": "oops"}, "/admin/users")
    unknown = post(app, client, "/admin/users/999999/deactivate", {"reason": "who"}, "/admin/users")

    assert "Not done: You cannot deactivate yourself." in own
    assert "Not done: No such user." in unknown
    db.session.refresh(admin)
    assert admin.is_active_user is True


# --- ledger check and failed jobs --------------------------------------------------------------


def test_the_ledger_page_shows_every_invariant_and_the_home_page_a_summary(app, client, admin):
    body = page(app, client, "/admin/ledger")

    assert "All hold." in body
    for name in check.INVARIANTS:
        assert f'data-code="{name}">{word("check", name)}</abbr></td>\n      <td>ok</td>' in body
    home = page(app, client, "/admin/")
    assert (
        f"3 of {len(check.INVARIANTS)} invariants" in home
        and ">Every currency balances</abbr>: ok</li>" in home
    )
    assert 'href="/admin/ledger"' in home


def test_a_failing_invariant_is_shown_with_its_problems(app, client, admin, monkeypatch):
    broken = dict(check.INVARIANTS, no_negative_balances=lambda: ["advertiser:1:available:USD is at -5"])
    monkeypatch.setattr(check, "INVARIANTS", broken)

    body = page(app, client, "/admin/ledger")

    assert "1 invariant(s) fail." in body
    assert "<strong>FAIL</strong>" in body and "<li>advertiser:1:available:USD is at -5</li>" in body
    assert ">No balance below zero</abbr>: <strong>FAIL</strong> (1 problem(s))</li>" in page(
        app, client, "/admin/"
    )


def test_requeueing_failed_jobs_without_redis_says_why(app, client, admin):
    body = post(app, client, "/admin/jobs/requeue", {"queue": "all"}, "/admin/jobs")
    assert "Not done: REDIS_URL is not set" in body
    assert "Not done: no queue named 'emails'." in post(
        app, client, "/admin/jobs/requeue", {"queue": "emails"}, "/admin/jobs"
    )


@pytest.mark.parametrize(("queue", "expected"), [("all", None), ("validation", ("validation",))])
def test_requeueing_failed_jobs_puts_back_one_queue_or_all(app, client, admin, monkeypatch, queue, expected):
    from exchange.admin import failed_jobs
    from exchange.jobs import QUEUES

    asked = []
    connection = object()
    monkeypatch.setattr(failed_jobs, "redis_for_jobs", lambda: connection)
    monkeypatch.setattr(
        failed_jobs,
        "requeue_failed",
        lambda conn, queues: asked.append((conn, queues)) or [("validation", "j1")],
    )

    response = request(app, client, "POST", "/admin/jobs/requeue", data={"queue": queue})

    assert response.status_code == 303
    assert asked == [(connection, expected or QUEUES)]
    monkeypatch.undo()  # the page itself, without Redis
    body = page(app, client, "/admin/jobs")
    where = "every queue" if queue == "all" else queue
    assert f"1 failed job(s) requeued from {where}." in body
