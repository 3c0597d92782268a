"""Payouts (issue 5, item 3): payout settings, minimums per currency, scheduled payouts,
manual batches with their CSV and settlement, over the API and the services, with the
ledger's invariants (``billing.check``) holding after each flow."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from billing.check import run_checks
from billing.domain import platform
from billing.models import Account, Transfer
from billing.payouts.jobs import run_scheduled_payouts
from exchange.accounts.services import create_user
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import release_hold
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user

MONDAY, WEDNESDAY, THURSDAY = datetime(2026, 1, 12, 9), datetime(2026, 1, 14, 9), datetime(2026, 1, 15, 9)
NEXT_WEDNESDAY = datetime(2026, 1, 21, 9)


class Webmaster:
    def __init__(self, client, user=None):
        self.client = client
        self.user = user or make_user("webmaster")
        self.id, self.key = self.user.id, make_key(self.user)

    def earn(self, amount_minor: int, currency: str = "USD") -> None:
        """An approved lead whose payout (``amount_minor``) is released from hold."""
        advertiser = make_user("advertiser")
        offer = make_offer(
            advertiser,
            currency=currency,
            rate_minor=amount_minor + 500,
            payout_minor=amount_minor,
            hold_seconds=0,
        )
        fund(advertiser, amount_minor + 500, currency)
        make_join(self.user, offer)
        lead = self.client.post(
            "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(self.key)
        ).get_json()
        assert lead["status"] == "pending", lead
        approved = self.client.post(
            f"/api/v1/leads/{lead['id']}/approve", json={}, headers=auth(make_key(advertiser))
        )
        assert approved.status_code == 200, approved.get_json()
        assert release_hold(lead["id"])
        commit()

    def available(self, currency: str = "USD") -> int:
        return balance(self.client, self.key, "available", currency)["available_minor"]

    def pending_out(self, currency: str = "USD") -> int:
        return balance(self.client, self.key, "available", currency)["pending_out_minor"]

    def request_payout(self, amount_minor: int, currency: str = "USD"):
        return self.client.post(
            "/api/v1/payouts",
            json={"currency": currency, "amount_minor": amount_minor},
            headers=auth(self.key),
        )

    def put_settings(self, **body):
        return self.client.put("/api/v1/payout-settings", json=body, headers=auth(self.key))

    def payouts(self) -> list[dict]:
        response = self.client.get("/api/v1/payouts", headers=auth(self.key))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]


def cash_out(currency: str = "USD") -> int:
    account = db.session.scalar(
        select(Account)
        .where(Account.code == platform("cash_out", currency).code)
        .execution_options(populate_existing=True)
    )
    return account.credits_posted if account else 0


def transfer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def assert_ledger_sound() -> None:
    assert {name: problems for name, problems in run_checks().items() if problems} == {}


def admin_key() -> str:
    return make_key(make_user("admin"))


# --- settings --------------------------------------------------------------------------------


def test_settings_start_manual_on_demand_and_are_replaced_by_put(client, ctx):
    webmaster = Webmaster(client)

    got = client.get("/api/v1/payout-settings", headers=auth(webmaster.key))
    assert got.status_code == 200
    assert {k: got.get_json().get(k) for k in ("rail", "schedule", "weekday", "thresholds_minor")} == {
        "rail": "manual",
        "schedule": "on_demand",
        "weekday": None,
        "thresholds_minor": {},
    }

    put = webmaster.put_settings(schedule="weekly", weekday=3, thresholds_minor={"USD": 5000})
    assert put.status_code == 200, put.get_json()
    again = client.get("/api/v1/payout-settings", headers=auth(webmaster.key)).get_json()
    assert (again["rail"], again["schedule"], again["weekday"], again["thresholds_minor"]) == (
        "manual",
        "weekly",
        3,
        {"USD": 5000},
    )

    monthly = webmaster.put_settings(schedule="monthly", day_of_month=31).get_json()
    assert (
        monthly["schedule"],
        monthly["weekday"],
        monthly["day_of_month"],
        monthly["thresholds_minor"],
    ) == (
        "monthly",
        None,
        31,
        {},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rail": "paypal"}, "rail"),
        ({"schedule": "daily"}, "schedule"),
        ({"schedule": "weekly"}, "weekday"),
        ({"schedule": "weekly", "weekday": 8}, "weekday"),
        ({"schedule": "weekly", "weekday": "3"}, "weekday"),
        ({"schedule": "monthly"}, "day_of_month"),
        ({"schedule": "monthly", "day_of_month": 0}, "day_of_month"),
        ({"schedule": "on_demand", "weekday": 2}, "weekday"),
        ({"rail": "stripe_connect"}, "stripe_account_id"),
        ({"rail": "stripe_connect", "stripe_account_id": "acct_12 34"}, "stripe_account_id"),
        ({"rail": "stripe_connect", "stripe_account_id": "cus_123"}, "stripe_account_id"),
        ({"stripe_account_id": "acct_1032D82eZvKYlo2C"}, "stripe_account_id"),
        ({"schedule": "weekly", "weekday": 1, "thresholds_minor": {"USD": 999}}, "thresholds_minor"),
        ({"schedule": "weekly", "weekday": 1, "thresholds_minor": {"usd": 5000}}, "thresholds_minor"),
        ({"schedule": "weekly", "weekday": 1, "thresholds_minor": {"USD": "5000"}}, "thresholds_minor"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_settings_that_do_not_hold_together_are_422_with_the_fields_message(client, ctx, body, field):
    webmaster = Webmaster(client)

    response = webmaster.put_settings(**body)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"], response.get_json()
    settings = client.get("/api/v1/payout-settings", headers=auth(webmaster.key)).get_json()
    assert (settings["rail"], settings["schedule"]) == ("manual", "on_demand")  # nothing saved


def test_a_threshold_is_checked_against_its_own_currencys_minimum(client, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM_MINOR", {"default": 1000, "EUR": 2500})
    webmaster = Webmaster(client)

    refused = webmaster.put_settings(
        schedule="weekly", weekday=1, thresholds_minor={"USD": 1000, "EUR": 2000}
    )
    taken = webmaster.put_settings(schedule="weekly", weekday=1, thresholds_minor={"USD": 1000, "EUR": 2500})

    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["thresholds_minor"] == {"EUR": ["At least 25.00 EUR."]}
    assert taken.status_code == 200, taken.get_json()


def test_the_stripe_connect_rail_is_refused_while_stripe_is_not_configured(client, ctx, app, monkeypatch):
    webmaster = Webmaster(client)
    assert not app.config.get("STRIPE_SECRET_KEY")

    refused = webmaster.put_settings(rail="stripe_connect", stripe_account_id="acct_1032D82eZvKYlo2C")

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "stripe_not_configured"
    assert client.get("/api/v1/payout-settings", headers=auth(webmaster.key)).get_json()["rail"] == "manual"

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_configured")
    taken = webmaster.put_settings(rail="stripe_connect", stripe_account_id="acct_1032D82eZvKYlo2C")
    assert taken.status_code == 200, taken.get_json()
    assert (taken.get_json()["rail"], taken.get_json()["stripe_account_id"]) == (
        "stripe_connect",
        "acct_1032D82eZvKYlo2C",
    )


def test_settings_are_for_webmasters_and_each_sees_only_its_own(client, ctx):
    first, second = Webmaster(client), Webmaster(client)
    advertiser_key = make_key(make_user("advertiser"))

    assert first.put_settings(schedule="weekly", weekday=5).status_code == 200

    assert (
        client.get("/api/v1/payout-settings", headers=auth(second.key)).get_json()["schedule"] == "on_demand"
    )
    assert client.get("/api/v1/payout-settings", headers=auth(advertiser_key)).status_code == 403
    assert client.put("/api/v1/payout-settings", json={}, headers=auth(advertiser_key)).status_code == 403


# --- on demand -------------------------------------------------------------------------------


def test_the_minimum_on_demand_is_the_currencys_own(client, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM_MINOR", {"default": 1000, "EUR": 2500})
    webmaster = Webmaster(client)
    webmaster.earn(3000, "USD")
    webmaster.earn(3000, "EUR")

    usd = webmaster.request_payout(1000, "USD")
    eur_below = webmaster.request_payout(2499, "EUR")

    assert usd.status_code == 201, usd.get_json()
    assert (usd.get_json()["rail"], usd.get_json()["status"]) == ("manual", "requested")
    assert eur_below.status_code == 422
    assert eur_below.get_json()["error"]["code"] == "below_minimum"
    assert eur_below.get_json()["error"]["fields"]["amount_minor"] == ["At least 2500."]
    eur = webmaster.request_payout(2500, "EUR")
    assert eur.status_code == 201, eur.get_json()
    assert (webmaster.available("USD"), webmaster.pending_out("USD")) == (2000, 1000)
    assert (webmaster.available("EUR"), webmaster.pending_out("EUR")) == (500, 2500)
    assert_ledger_sound()


def test_a_webmaster_sees_only_its_own_payouts(client, ctx):
    first, second = Webmaster(client), Webmaster(client)
    first.earn(2000)
    second.earn(3000)
    mine = first.request_payout(2000).get_json()["id"]
    theirs = second.request_payout(3000).get_json()["id"]

    assert [p["id"] for p in first.payouts()] == [mine]
    assert [p["id"] for p in second.payouts()] == [theirs]
    for path in ("/api/v1/admin/payout-batches/1", "/api/v1/admin/payout-batches/1.csv"):
        assert client.get(path, headers=auth(first.key)).status_code == 403
    assert (
        client.post(
            "/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(first.key)
        ).status_code
        == 403
    )


# --- on a schedule ---------------------------------------------------------------------------


def test_a_weekly_payout_is_made_on_its_day_once_per_week(client, ctx, frozen_clock):
    frozen_clock.set(MONDAY)
    webmaster, on_demand = Webmaster(client), Webmaster(client)
    webmaster.earn(3000)
    webmaster.earn(1700, "EUR")
    on_demand.earn(4000)
    assert webmaster.put_settings(schedule="weekly", weekday=3).status_code == 200

    monday = run_scheduled_payouts()
    assert (monday.requested, webmaster.payouts()) == ([], [])  # not due before Wednesday

    frozen_clock.set(WEDNESDAY)
    wednesday = run_scheduled_payouts()

    made = {p["currency"]: p for p in webmaster.payouts()}
    assert sorted(made) == ["EUR", "USD"]
    assert sorted(wednesday.requested) == sorted(p["id"] for p in made.values())
    assert (made["USD"]["amount_minor"], made["EUR"]["amount_minor"]) == (3000, 1700)  # the whole balance
    assert made["USD"]["schedule_key"] == f"sched:{webmaster.id}:USD:weekly:2026-01-12"
    assert (webmaster.available("USD"), webmaster.available("EUR")) == (0, 0)
    assert on_demand.payouts() == [] and on_demand.available() == 4000  # no schedule: left alone

    webmaster.earn(2500)
    again = run_scheduled_payouts()
    frozen_clock.set(THURSDAY)
    thursday = run_scheduled_payouts()

    assert again.requested == [] and thursday.requested == []  # this week's payout is made
    assert len(webmaster.payouts()) == 2
    assert webmaster.available() == 2500

    frozen_clock.set(NEXT_WEDNESDAY)
    next_week = run_scheduled_payouts()

    assert len(next_week.requested) == 1
    newest = webmaster.payouts()[0]
    assert (newest["amount_minor"], newest["schedule_key"]) == (
        2500,
        f"sched:{webmaster.id}:USD:weekly:2026-01-19",
    )
    assert_ledger_sound()


def test_a_scheduled_payout_waits_for_its_threshold_and_the_minimum(
    client, ctx, frozen_clock, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM_MINOR", {"default": 1000, "EUR": 2500})
    frozen_clock.set(WEDNESDAY)
    webmaster = Webmaster(client)
    webmaster.earn(3000)
    webmaster.earn(2000, "EUR")  # below the EUR minimum
    assert (
        webmaster.put_settings(schedule="weekly", weekday=3, thresholds_minor={"USD": 5000}).status_code
        == 200
    )

    first = run_scheduled_payouts()
    assert (first.requested, first.below_threshold) == ([], 2)

    webmaster.earn(2000)  # USD 5000 now: the threshold
    second = run_scheduled_payouts()

    assert len(second.requested) == 1
    assert [(p["currency"], p["amount_minor"]) for p in webmaster.payouts()] == [("USD", 5000)]
    assert webmaster.available("EUR") == 2000
    assert_ledger_sound()


def test_a_monthly_payout_on_the_31st_is_made_on_the_last_day_of_a_short_month(client, ctx, frozen_clock):
    frozen_clock.set(datetime(2026, 2, 27, 9))
    webmaster = Webmaster(client)
    webmaster.earn(1500)
    assert webmaster.put_settings(schedule="monthly", day_of_month=31).status_code == 200

    assert run_scheduled_payouts().requested == []
    frozen_clock.set(datetime(2026, 2, 28, 9))
    assert len(run_scheduled_payouts().requested) == 1
    assert webmaster.payouts()[0]["schedule_key"] == f"sched:{webmaster.id}:USD:monthly:2026-02-01"


# --- manual batches --------------------------------------------------------------------------


def batch_rows(client, key: str, batch_id: int) -> list[dict]:
    response = client.get(f"/api/v1/admin/payout-batches/{batch_id}.csv", headers=auth(key))
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert reader.fieldnames == [
        "payout_id",
        "webmaster_id",
        "email",
        "name",
        "amount",
        "currency",
        "requested_at",
    ]
    return list(reader)


def test_a_batch_gathers_requested_manual_payouts_of_one_currency_into_a_csv(client, ctx, frozen_clock):
    frozen_clock.set(datetime(2026, 3, 2, 10, 30, 5))
    admin = admin_key()
    first = Webmaster(client)
    formula = create_user(
        "=cmd@example.test", "=HYPERLINK(1)", "webmaster", "long-enough-pw", status="active"
    )
    second = Webmaster(client, formula)
    first.earn(2345)
    second.earn(1000)
    first.earn(3000, "JPY")
    one = first.request_payout(2345).get_json()["id"]
    two = second.request_payout(1000).get_json()["id"]
    yen = first.request_payout(3000, "JPY").get_json()["id"]

    created = client.post("/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(admin))

    assert created.status_code == 201, created.get_json()
    batch = created.get_json()
    assert (batch["payout_ids"], batch["total_minor"], batch["statuses"]) == (
        [one, two],
        3345,
        {"requested": 2},
    )
    rows = batch_rows(client, admin, batch["id"])
    assert rows == [
        {
            "payout_id": str(one),
            "webmaster_id": str(first.id),
            "email": first.user.email,
            "name": first.user.name,
            "amount": "23.45",
            "currency": "USD",
            "requested_at": "2026-03-02T10:30:05Z",
        },
        {
            "payout_id": str(two),
            "webmaster_id": str(second.id),
            "email": "'=cmd@example.test",  # never a formula in the finance team's spreadsheet
            "name": "'=HYPERLINK(1)",
            "amount": "10.00",
            "currency": "USD",
            "requested_at": "2026-03-02T10:30:05Z",
        },
    ]
    again = client.post("/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(admin))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_batch"
    yen_batch = client.post(
        "/api/v1/admin/payout-batches", json={"currency": "JPY"}, headers=auth(admin)
    ).get_json()
    assert [(row["payout_id"], row["amount"]) for row in batch_rows(client, admin, yen_batch["id"])] == [
        (str(yen), "3000")
    ]
    assert client.get("/api/v1/admin/payout-batches/999999.csv", headers=auth(admin)).status_code == 404


def settle(client, key: str, batch_id: int, **body):
    return client.post(f"/api/v1/admin/payout-batches/{batch_id}/settle", json=body, headers=auth(key))


def test_settling_a_batch_paid_posts_each_payout_once(client, ctx):
    admin = admin_key()
    first, second = Webmaster(client), Webmaster(client)
    first.earn(3000)
    second.earn(2000)
    one = first.request_payout(2000).get_json()["id"]
    two = second.request_payout(2000).get_json()["id"]
    batch_id = client.post(
        "/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(admin)
    ).get_json()["id"]
    cash_out_before = cash_out()

    paid = settle(client, admin, batch_id, outcome="paid", note="wire 2026-03-02")

    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["settled"], paid.get_json()["unchanged"]) == ([one, two], [])
    assert (first.available(), first.pending_out(), second.available(), second.pending_out()) == (
        1000,
        0,
        0,
        0,
    )
    assert cash_out() == cash_out_before + 4000
    assert {p["status"] for p in first.payouts() + second.payouts()} == {"paid"}
    assert first.payouts()[0]["note"] == "wire 2026-03-02"
    transfers = transfer_count()

    twice = settle(client, admin, batch_id, outcome="paid")
    listed = settle(client, admin, batch_id, outcome="paid", payout_ids=[one])
    other_way = settle(client, admin, batch_id, outcome="failed", payout_ids=[two])

    assert (twice.status_code, twice.get_json()["settled"], twice.get_json()["unchanged"]) == (
        200,
        [],
        [one, two],
    )
    assert (listed.get_json()["settled"], listed.get_json()["unchanged"]) == ([], [one])
    assert other_way.status_code == 409 and other_way.get_json()["error"]["code"] == "payout_settled"
    assert transfer_count() == transfers  # one effect each, whatever was asked again
    assert (first.available(), second.available(), cash_out()) == (1000, 0, cash_out_before + 4000)
    assert_ledger_sound()


def test_a_failed_payout_in_a_batch_returns_its_money_to_available(client, ctx):
    admin = admin_key()
    first, second = Webmaster(client), Webmaster(client)
    first.earn(3000)
    second.earn(2000)
    bounced = first.request_payout(3000).get_json()["id"]
    good = second.request_payout(2000).get_json()["id"]
    batch_id = client.post(
        "/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(admin)
    ).get_json()["id"]
    assert first.available() == 0

    failed = settle(client, admin, batch_id, outcome="failed", payout_ids=[bounced], note="account closed")

    assert (failed.status_code, failed.get_json()["settled"]) == (200, [bounced])
    assert (first.available(), first.pending_out()) == (3000, 0)  # back, and free to withdraw again
    voided = db.session.get(Transfer, f"payout:{bounced}:failed")
    assert (voided.kind, voided.pending_id) == ("void_pending", f"payout:{bounced}")
    assert second.pending_out() == 2000  # the rest of the batch is untouched

    rest = settle(client, admin, batch_id, outcome="paid")  # no list: every payout still requested

    assert (rest.get_json()["settled"], rest.get_json()["unchanged"]) == ([good], [])
    statuses = {p["id"]: p["status"] for p in first.payouts() + second.payouts()}
    assert statuses == {bounced: "failed", good: "paid"}
    assert first.request_payout(3000).status_code == 201
    assert_ledger_sound()


def test_settling_payouts_outside_the_batch_is_422_and_changes_nothing(client, ctx):
    admin = admin_key()
    inside, outside = Webmaster(client), Webmaster(client)
    inside.earn(2000)
    inside_id = inside.request_payout(2000).get_json()["id"]
    batch_id = client.post(
        "/api/v1/admin/payout-batches", json={"currency": "USD"}, headers=auth(admin)
    ).get_json()["id"]
    outside.earn(2000)
    outside_id = outside.request_payout(2000).get_json()["id"]

    response = settle(client, admin, batch_id, outcome="paid", payout_ids=[inside_id, outside_id])

    assert response.status_code == 422
    assert "payout_ids" in response.get_json()["error"]["fields"]
    db.session.rollback()  # what the end of a real request does with what it did not commit
    assert {p["status"] for p in inside.payouts() + outside.payouts()} == {"requested"}
    assert settle(client, admin, 999999, outcome="paid").status_code == 404
    assert settle(client, admin, batch_id, outcome="maybe").status_code == 422
