"""Statements, invoices and the revenue report (docs/money.md), over the API and the pages.

A small market moves money across January and February 2026 under a frozen
clock. Every expected balance below was worked out by hand from the amounts put
in (rates 15.00 and 40.00, payouts 10.00 and 30.00, top-ups 200.00 and 50.00),
not copied from an answer; the ledger cross-checks sum the transfer rows
directly, by the ledger's own definition of a posted balance.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.models import Transfer
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import release_hold, return_lead
from tests.api.test_web_portal import login, request
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user

DAY = 86400
JAN, FEB = "2026-01", "2026-02"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


class Market:
    """Advertiser A with offers Solar (15.00 / 10.00) and Roofing (40.00 / 30.00), webmasters
    W1 and W2, a rival advertiser with money of its own, and an admin; then January and
    February happen (see each step)."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock
        clock.set(at(1, 2))
        self.advertiser, self.rival = make_user("advertiser"), make_user("advertiser")
        self.w1, self.w2 = make_user("webmaster"), make_user("webmaster")
        self.admin, self.moderator = make_user("admin"), make_user("moderator")
        self.keys = {
            name: make_key(user)
            for name, user in (
                ("advertiser", self.advertiser),
                ("rival", self.rival),
                ("w1", self.w1),
                ("w2", self.w2),
                ("admin", self.admin),
                ("moderator", self.moderator),
            )
        }
        windows = {
            "hold_seconds": 5 * DAY,
            "return_window_seconds": 3 * DAY,
            "review_window_seconds": 3 * DAY,
        }
        self.solar = make_offer(
            self.advertiser, name="Solar Alpha", rate_minor=1500, payout_minor=1000, **windows
        )
        self.roofing = make_offer(
            self.advertiser, name="Roofing Beta", rate_minor=4000, payout_minor=3000, **windows
        )
        for webmaster in (self.w1, self.w2):
            for offer in (self.solar, self.roofing):
                make_join(webmaster, offer)
        self._january()
        self._february()

    def _january(self) -> None:
        self.clock.set(at(1, 5, 9))
        fund(self.advertiser, 20_000)
        fund(self.rival, 77_700)
        self.l1 = self.submit("w1", self.solar, at(1, 10, 10))
        self.l2 = self.submit("w1", self.roofing, at(1, 10, 11))
        self.l3 = self.submit("w2", self.solar, at(1, 11, 10))
        self.decide(self.l1, "approve", at(1, 12, 10))
        self.decide(self.l3, "reject", at(1, 12, 11))
        self.decide(self.l2, "approve", at(1, 13, 10))
        self.release(self.l1, at(1, 19, 10))
        self.release(self.l2, at(1, 19, 11))
        self.clock.set(at(1, 20))
        payout = self.client.post(
            "/api/v1/payouts", json={"currency": "USD", "amount_minor": 2500}, headers=self.auth("w1")
        )
        assert payout.status_code == 201, payout.get_json()
        self.payout_id = payout.get_json()["id"]
        self.l5 = self.submit("w2", self.solar, at(1, 30, 10))
        self.decide(self.l5, "approve", at(1, 31, 10))
        self.l4 = self.submit("w2", self.roofing, at(1, 31, 23, 30))  # reserved in January

    def _february(self) -> None:
        self.clock.set(at(2, 1, 0))  # the first instant of February belongs to February
        return_lead(self.l5, Actor(kind="user", user_id=self.moderator.id, label="test"), note="not a lead")
        commit()
        self.decide(self.l4, "approve", at(2, 2, 10))  # charged in February
        self.clock.set(at(2, 3, 10))
        settled = self.client.post(
            f"/api/v1/admin/payouts/{self.payout_id}/settle",
            json={"outcome": "paid"},
            headers=self.auth("admin"),
        )
        assert settled.status_code == 200, settled.get_json()
        self.clock.set(at(2, 10, 10))
        fund(self.advertiser, 5_000)

    def auth(self, name: str) -> dict:
        return auth(self.keys[name])

    def submit(self, webmaster: str, offer, when: datetime) -> int:
        self.clock.set(when)
        response = self.client.post(
            "/api/v1/leads",
            json={"offer_id": offer.id, "fields": lead_fields()},
            headers=self.auth(webmaster),
        )
        assert response.get_json()["status"] == "pending", response.get_json()
        return response.get_json()["id"]

    def decide(self, lead_id: int, verb: str, when: datetime) -> None:
        self.clock.set(when)
        response = self.client.post(
            f"/api/v1/leads/{lead_id}/{verb}", json={}, headers=self.auth("advertiser")
        )
        assert response.status_code == 200, response.get_json()

    def release(self, lead_id: int, when: datetime) -> None:
        self.clock.set(when)
        assert release_hold(lead_id)
        commit()

    def statement(self, key: str, month: str, **params) -> dict:
        response = self.client.get(
            "/api/v1/statements",
            query_string={"month": month, "currency": "USD", **params},
            headers=self.auth(key),
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def code(self, owner: str, user, purpose: str) -> str:
        return f"{owner}:{user.id}:{purpose}:USD"


@pytest.fixture
def market(client, ctx, frozen_clock) -> Market:
    return Market(client, frozen_clock)


def rows(statement: dict) -> list[tuple]:
    return [
        (
            line["id"],
            line["direction"],
            line["kind"],
            line["amount_minor"],
            line["posted_minor"],
            line["available_minor"],
        )
        for line in statement["lines"]
    ]


def pair(figures: dict) -> tuple[int, int]:
    return figures["posted_minor"], figures["available_minor"]


def posted_before(code: str, moment: datetime) -> int:
    """The account's posted balance before ``moment``, summed straight from its transfer rows."""
    from billing.models import Account

    account_id = db.session.scalar(select(Account.id).where(Account.code == code))
    moved = ("posted", "post_pending")

    def total(side) -> int:
        query = select(func.coalesce(func.sum(Transfer.amount_minor), 0)).where(
            side == account_id, Transfer.kind.in_(moved), Transfer.created_at < moment
        )
        return db.session.scalar(query)

    return total(Transfer.credit_account_id) - total(Transfer.debit_account_id)


def topups_between(code: str, start: datetime, end: datetime) -> int:
    from billing.models import Account

    account_id = db.session.scalar(select(Account.id).where(Account.code == code))
    query = select(func.coalesce(func.sum(Transfer.amount_minor), 0)).where(
        Transfer.credit_account_id == account_id,
        Transfer.id.like("topup:%"),
        Transfer.created_at >= start,
        Transfer.created_at < end,
    )
    return db.session.scalar(query)


# --- statements ----------------------------------------------------------------------------------


def test_the_advertisers_january_statement_runs_both_balances_line_by_line(market):
    m = market
    statement = m.statement("advertiser", JAN, account="available")
    l1, l2, l3, l5, l4 = m.l1, m.l2, m.l3, m.l5, m.l4
    (topup,) = [line["id"] for line in statement["lines"] if line["id"].startswith("topup:")]

    assert pair(statement["opening"]) == (0, 0)
    assert rows(statement) == [
        (topup, "in", "posted", 20_000, 20_000, 20_000),
        (f"lead:{l1}:reserve:margin", "out", "pending", 500, 20_000, 19_500),
        (f"lead:{l1}:reserve:payout", "out", "pending", 1000, 20_000, 18_500),
        (f"lead:{l2}:reserve:margin", "out", "pending", 1000, 20_000, 17_500),
        (f"lead:{l2}:reserve:payout", "out", "pending", 3000, 20_000, 14_500),
        (f"lead:{l3}:reserve:margin", "out", "pending", 500, 20_000, 14_000),
        (f"lead:{l3}:reserve:payout", "out", "pending", 1000, 20_000, 13_000),
        (f"lead:{l1}:approve:margin", "out", "post_pending", 500, 19_500, 13_000),
        (f"lead:{l1}:approve:payout", "out", "post_pending", 1000, 18_500, 13_000),
        (f"lead:{l3}:void:margin", "out", "void_pending", 500, 18_500, 13_500),
        (f"lead:{l3}:void:payout", "out", "void_pending", 1000, 18_500, 14_500),
        (f"lead:{l2}:approve:margin", "out", "post_pending", 1000, 17_500, 14_500),
        (f"lead:{l2}:approve:payout", "out", "post_pending", 3000, 14_500, 14_500),
        (f"lead:{l5}:reserve:margin", "out", "pending", 500, 14_500, 14_000),
        (f"lead:{l5}:reserve:payout", "out", "pending", 1000, 14_500, 13_000),
        (f"lead:{l5}:approve:margin", "out", "post_pending", 500, 14_000, 13_000),
        (f"lead:{l5}:approve:payout", "out", "post_pending", 1000, 13_000, 13_000),
        (f"lead:{l4}:reserve:margin", "out", "pending", 1000, 13_000, 12_000),
        (f"lead:{l4}:reserve:payout", "out", "pending", 3000, 13_000, 9_000),
    ]
    assert pair(statement["closing"]) == (13_000, 9_000)
    assert statement["total"] == 19
    descriptions = {line["id"]: line["description"] for line in statement["lines"]}
    assert descriptions[f"lead:{l1}:reserve:payout"] == f"Lead {l1} reserved"
    assert descriptions[f"lead:{l1}:approve:payout"] == f"Lead {l1} charge"
    assert descriptions[f"lead:{l3}:void:payout"] == f"Lead {l3} released (rejected)"
    assert descriptions[topup].startswith("Top-up ")
    assert statement["lines"][0]["date"] == "2026-01-05T09:00:00Z"
    assert {line["counterparty"] for line in statement["lines"][1:]} == {"webmaster", "platform"}


def test_the_advertisers_february_statement_carries_on_from_january(market):
    m = market
    statement = m.statement("advertiser", FEB)
    (topup,) = [line["id"] for line in statement["lines"] if line["id"].startswith("topup:")]

    assert pair(statement["opening"]) == (13_000, 9_000)
    assert rows(statement) == [
        (f"lead:{m.l5}:return:margin", "in", "posted", 500, 13_500, 9_500),
        (f"lead:{m.l5}:return:payout", "in", "posted", 1000, 14_500, 10_500),
        (f"lead:{m.l4}:approve:margin", "out", "post_pending", 1000, 13_500, 10_500),
        (f"lead:{m.l4}:approve:payout", "out", "post_pending", 3000, 10_500, 10_500),
        (topup, "in", "posted", 5000, 15_500, 15_500),
    ]
    assert pair(statement["closing"]) == (15_500, 15_500)
    # nothing has moved since: this month's closing is the balance now
    now = balance(m.client, m.keys["advertiser"], "available")
    assert (now["posted_minor"], now["available_minor"]) == (15_500, 15_500)


def test_a_webmasters_hold_and_available_statements(market):
    m = market
    hold = m.statement("w1", JAN, account="hold")
    available_jan = m.statement("w1", JAN, account="available")
    available_feb = m.statement("w1", FEB, account="available")
    payout = f"payout:{m.payout_id}"

    assert rows(hold) == [
        (f"lead:{m.l1}:reserve:payout", "in", "pending", 1000, 0, 0),
        (f"lead:{m.l2}:reserve:payout", "in", "pending", 3000, 0, 0),
        (f"lead:{m.l1}:approve:payout", "in", "post_pending", 1000, 1000, 1000),
        (f"lead:{m.l2}:approve:payout", "in", "post_pending", 3000, 4000, 4000),
        (f"lead:{m.l1}:hold-release", "out", "posted", 1000, 3000, 3000),
        (f"lead:{m.l2}:hold-release", "out", "posted", 3000, 0, 0),
    ]
    assert rows(available_jan) == [
        (f"lead:{m.l1}:hold-release", "in", "posted", 1000, 1000, 1000),
        (f"lead:{m.l2}:hold-release", "in", "posted", 3000, 4000, 4000),
        (payout, "out", "pending", 2500, 4000, 1500),
    ]
    assert pair(available_jan["closing"]) == (4000, 1500)
    assert pair(available_feb["opening"]) == (4000, 1500)
    assert rows(available_feb) == [(f"{payout}:paid", "out", "post_pending", 2500, 1500, 1500)]
    words = {line["id"]: line["description"] for line in available_jan["lines"] + available_feb["lines"]}
    assert words[payout] == f"Payout {m.payout_id} requested"
    assert words[f"{payout}:paid"] == f"Payout {m.payout_id} paid"
    assert words[f"lead:{m.l1}:hold-release"] == f"Lead {m.l1} hold released"
    assert {line["counterparty"] for line in hold["lines"]} == {"advertiser", "webmaster"}


def test_the_second_webmasters_hold_through_a_rejection_and_a_return(market):
    m = market
    jan, feb = m.statement("w2", JAN, account="hold"), m.statement("w2", FEB, account="hold")
    assert rows(jan) == [
        (f"lead:{m.l3}:reserve:payout", "in", "pending", 1000, 0, 0),
        (f"lead:{m.l3}:void:payout", "in", "void_pending", 1000, 0, 0),
        (f"lead:{m.l5}:reserve:payout", "in", "pending", 1000, 0, 0),
        (f"lead:{m.l5}:approve:payout", "in", "post_pending", 1000, 1000, 1000),
        (f"lead:{m.l4}:reserve:payout", "in", "pending", 3000, 1000, 1000),
    ]
    assert rows(feb) == [
        (f"lead:{m.l5}:return:payout", "out", "posted", 1000, 0, 0),
        (f"lead:{m.l4}:approve:payout", "in", "post_pending", 3000, 3000, 3000),
    ]
    assert feb["lines"][0]["description"] == f"Lead {m.l5} returned"


def test_one_months_closing_is_the_next_months_opening_for_every_account(market):
    m = market
    asks = [
        ("advertiser", {"account": "available"}),
        ("w1", {"account": "hold"}),
        ("w1", {"account": "available"}),
        ("w2", {"account": "hold"}),
        ("w2", {"account": "available"}),
        ("admin", {"code": "platform:revenue:USD"}),
        ("admin", {"code": "platform:cash_out:USD"}),
        ("admin", {"code": "platform:cash_in:USD"}),
    ]
    for key, params in asks:
        months = [m.statement(key, month, **params) for month in ("2025-12", JAN, FEB)]
        assert pair(months[0]["opening"]) == pair(months[0]["closing"]) == (0, 0), (key, params)
        for before, after in zip(months, months[1:], strict=False):
            assert pair(before["closing"]) == pair(after["opening"]), (key, params, after["month"])
        for month in months:  # the last line's running balances are the closing ones
            last = month["lines"][-1] if month["lines"] else month["opening"]
            assert pair(last) == pair(month["closing"]), (key, params, month["month"])


def test_the_platform_accounts_by_code_for_admins(market):
    revenue = market.statement("admin", JAN, code="platform:revenue:USD")
    assert revenue["account"]["code"] == "platform:revenue:USD"
    assert pair(revenue["closing"]) == (2000, 2000)  # margins 5.00 + 10.00 + 5.00
    cash_in = market.statement("admin", JAN, code="platform:cash_in:USD")
    assert pair(cash_in["closing"]) == (-97_700, -97_700)  # both top-ups entered: 200.00 + 777.00


def test_a_page_of_lines_keeps_the_running_balances_of_the_whole_month(market):
    whole = market.statement("advertiser", JAN)
    page = market.statement("advertiser", JAN, page=2, per_page=5)
    assert page["total"] == whole["total"] == 19
    assert page["lines"] == whole["lines"][5:10]
    assert page["opening"] == whole["opening"] and page["closing"] == whole["closing"]


def test_the_csv_says_what_the_json_says(market):
    m = market
    for key, params in (("advertiser", {}), ("w1", {"account": "available"}), ("w2", {"account": "hold"})):
        for month in (JAN, FEB):
            query = {"month": month, "currency": "USD", **params}
            statement = m.statement(key, month, **params)
            first = m.client.get("/api/v1/statements.csv", query_string=query, headers=m.auth(key))
            assert first.status_code == 200 and first.mimetype == "text/csv"
            assert "attachment" in first.headers["Content-Disposition"]
            text = first.get_data(as_text=True)  # read the stream before the next request
            second = m.client.get(
                "/api/v1/statements", query_string={**query, "format": "csv"}, headers=m.auth(key)
            )
            assert second.get_data(as_text=True) == text
            table = list(csv.DictReader(io.StringIO(text)))
            opening, *lines, closing = table
            assert opening["description"] == "Opening balance"
            assert closing["description"] == "Closing balance"
            assert (minor(opening["posted_balance"]), minor(opening["available_balance"])) == pair(
                statement["opening"]
            )
            assert (minor(closing["posted_balance"]), minor(closing["available_balance"])) == pair(
                statement["closing"]
            )
            assert [
                (
                    row["id"],
                    row["direction"],
                    row["kind"],
                    minor(row["amount"]),
                    minor(row["posted_balance"]),
                    minor(row["available_balance"]),
                )
                for row in lines
            ] == rows(statement)
            assert [row["description"] for row in lines] == [
                line["description"] for line in statement["lines"]
            ]


def minor(text: str) -> int:
    """A CSV amount (major units, two decimals for USD) as minor units, exactly."""
    assert "." in text and len(text.split(".")[1]) == 2, text
    return int(Decimal(text) * 100)


def test_amounts_in_the_csv_are_exact_decimals(market):
    response = market.client.get(
        "/api/v1/statements.csv",
        query_string={"month": JAN, "currency": "USD"},
        headers=market.auth("advertiser"),
    )
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert table[1]["amount"] == "200.00"
    assert table[-1]["posted_balance"] == "130.00" and table[-1]["available_balance"] == "90.00"


def test_transfers_of_one_instant_are_shown_in_the_order_they_happen(client, ctx, frozen_clock):
    """An auto-approved lead is reserved and charged, and its hold (of zero seconds) released,
    all at one instant: the statement shows them as they happened, not in the ids' order
    ("approve" < "hold-release" < "reserve")."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    adv_key, wm_key = make_key(advertiser), make_key(webmaster)
    offer = make_offer(advertiser, auto_approve="all", hold_seconds=0, return_window_seconds=0)
    make_join(webmaster, offer)
    frozen_clock.set(at(1, 20, 12))
    fund(advertiser, 10_000)
    submitted = client.post(
        "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=auth(wm_key)
    )
    lead = submitted.get_json()["id"]
    assert submitted.get_json()["status"] == "approved", submitted.get_json()
    assert release_hold(lead)
    commit()

    def lines(key: str, account: str) -> list[tuple]:
        query = {"month": JAN, "currency": "USD", "account": account}
        return rows(client.get("/api/v1/statements", query_string=query, headers=auth(key)).get_json())

    assert [line[1:] for line in lines(adv_key, "available")] == [
        ("in", "posted", 10_000, 10_000, 10_000),
        ("out", "pending", 500, 10_000, 9_500),
        ("out", "pending", 1000, 10_000, 8_500),
        ("out", "post_pending", 500, 9_500, 8_500),
        ("out", "post_pending", 1000, 8_500, 8_500),
    ]
    assert lines(wm_key, "hold") == [
        (f"lead:{lead}:reserve:payout", "in", "pending", 1000, 0, 0),
        (f"lead:{lead}:approve:payout", "in", "post_pending", 1000, 1000, 1000),
        (f"lead:{lead}:hold-release", "out", "posted", 1000, 0, 0),
    ]


# --- who may see what ----------------------------------------------------------------------------


def test_a_webmaster_sees_only_its_own_transfers(market):
    m = market
    ids = {
        line["id"]
        for account in ("hold", "available")
        for month in (JAN, FEB)
        for line in m.statement("w1", month, account=account)["lines"]
    }
    assert ids, "W1 earned money"
    assert not any(transfer_id.startswith("topup:") for transfer_id in ids)
    assert not any(f"lead:{lead}:" in transfer_id for lead in (m.l3, m.l4, m.l5) for transfer_id in ids)
    assert not any(transfer_id.endswith(":margin") for transfer_id in ids)  # never the margin


def test_nobody_reaches_another_users_account(market):
    m = market
    advertiser_code = m.code("advertiser", m.advertiser, "available")
    for key in ("w1", "rival"):
        response = m.client.get(
            "/api/v1/statements", query_string={"month": JAN, "code": advertiser_code}, headers=m.auth(key)
        )
        assert response.status_code == 403, response.get_json()
    rival = m.statement("rival", JAN)  # the rival's own: its top-up and nothing of A's
    assert [line["amount_minor"] for line in rival["lines"]] == [77_700]
    assert rival["account"]["code"] == m.code("advertiser", m.rival, "available")


def test_roles_and_unknown_accounts(market):
    m = market
    query = {"month": JAN, "currency": "USD"}
    assert (
        m.client.get("/api/v1/statements", query_string=query, headers=m.auth("moderator")).status_code == 403
    )
    assert m.client.get("/api/v1/statements", query_string=query).status_code == 401
    unknown = m.client.get(
        "/api/v1/statements",
        query_string={"month": JAN, "code": "platform:revenue:XXX"},
        headers=m.auth("admin"),
    )
    assert unknown.status_code == 404
    no_code = m.client.get("/api/v1/statements", query_string=query, headers=m.auth("admin"))
    assert no_code.status_code == 422 and "code" in no_code.get_json()["error"]["fields"]
    never_used = m.statement("advertiser", JAN, currency="EUR")  # no EUR money yet: all zeros
    assert never_used["lines"] == [] and pair(never_used["closing"]) == (0, 0)


@pytest.fixture
def asker(client, ctx, frozen_clock) -> dict:
    """An advertiser's key, on 2026-02-10 (no market: bad questions need none)."""
    frozen_clock.set(at(2, 10))
    return auth(make_key(make_user("advertiser")))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-1"}, "month"),
        ({"month": "January"}, "month"),
        ({"month": "2026-03"}, "month"),  # not begun: the clock stands at 2026-02-10
        ({"currency": "usd"}, "currency"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"account": "savings"}, "account"),
        ({"account": "hold"}, "account"),  # advertisers have no hold account
        ({"currency": ""}, "currency"),
        ({"format": "xml"}, "format"),
        ({"per_page": "0"}, "per_page"),
    ],
)
def test_bad_statement_questions_are_422_with_the_field_named(client, asker, params, field):
    query = {"month": JAN, "currency": "USD", **params}
    for path in ("/api/v1/statements", "/api/v1/statements.csv"):
        response = client.get(path, query_string=query, headers=asker)
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert field in response.get_json()["error"]["fields"]


# --- invoices ------------------------------------------------------------------------------------


def invoice_of(m: Market, month: str) -> dict:
    response = m.client.get("/api/v1/invoices", query_string={"month": month}, headers=m.auth("advertiser"))
    assert response.status_code == 200, response.get_json()
    (invoice,) = response.get_json()
    return invoice


def test_the_january_invoice_charges_each_approved_lead_its_rate_by_offer(market):
    m = market
    invoice = invoice_of(m, JAN)
    assert invoice["number"] == f"INV-{m.advertiser.id}-2026-01-USD"
    assert invoice["final"] is True
    assert [
        (
            row["offer_id"],
            row["leads_charged"],
            row["charged_minor"],
            row["leads_returned"],
            row["returned_minor"],
        )
        for row in invoice["offers"]
    ] == [(m.solar.id, 2, 3000, 0, 0), (m.roofing.id, 1, 4000, 0, 0)]
    assert [row["offer_name"] for row in invoice["offers"]] == ["Solar Alpha", "Roofing Beta"]
    assert (invoice["charged_minor"], invoice["returned_minor"], invoice["total_minor"]) == (7000, 0, 7000)
    assert invoice["leads_charged"] == 3
    assert [topup["amount_minor"] for topup in invoice["topups"]] == [20_000]


def test_the_february_invoice_credits_the_return_of_a_january_lead(market):
    m = market
    invoice = invoice_of(m, FEB)
    assert invoice["final"] is False  # February is still running
    assert [
        (
            row["offer_id"],
            row["leads_charged"],
            row["charged_minor"],
            row["leads_returned"],
            row["returned_minor"],
        )
        for row in invoice["offers"]
    ] == [(m.solar.id, 0, 0, 1, 1500), (m.roofing.id, 1, 4000, 0, 0)]
    assert (invoice["charged_minor"], invoice["returned_minor"], invoice["total_minor"]) == (4000, 1500, 2500)
    assert invoice["topups_minor"] == 5000


def test_invoice_totals_are_what_the_ledger_charged_the_advertiser(market):
    """Posted balance change = top-ups received - (charges - returns): so the invoice total
    is the top-ups less the change, with both summed straight from the transfer rows."""
    m = market
    code = m.code("advertiser", m.advertiser, "available")
    for month, start, end in ((JAN, at(1, 1, 0), at(2, 1, 0)), (FEB, at(2, 1, 0), at(3, 1, 0))):
        change = posted_before(code, end) - posted_before(code, start)
        charged = topups_between(code, start, end) - change
        assert invoice_of(m, month)["total_minor"] == charged, month
    assert [invoice_of(m, month)["total_minor"] for month in (JAN, FEB)] == [7000, 2500]


def test_an_invoice_by_number_for_its_advertiser_and_admins_only(market):
    m = market
    number = f"INV-{m.advertiser.id}-2026-01-USD"
    own = m.client.get(f"/api/v1/invoices/{number}", headers=m.auth("advertiser"))
    assert own.status_code == 200 and own.get_json()["total_minor"] == 7000
    assert m.client.get(f"/api/v1/invoices/{number}", headers=m.auth("admin")).get_json() == own.get_json()
    assert m.client.get(f"/api/v1/invoices/{number}", headers=m.auth("rival")).status_code == 404
    assert m.client.get(f"/api/v1/invoices/{number}", headers=m.auth("w1")).status_code == 403
    assert (
        m.client.get("/api/v1/invoices", query_string={"month": JAN}, headers=m.auth("w1")).status_code == 403
    )
    for bad in ("INV-x", f"INV-{m.advertiser.id}-2026-13-USD", f"INV-{m.advertiser.id}-2026-04-USD"):
        assert m.client.get(f"/api/v1/invoices/{bad}", headers=m.auth("advertiser")).status_code == 404
    rival = m.client.get("/api/v1/invoices", query_string={"month": JAN}, headers=m.auth("rival")).get_json()
    assert [(inv["total_minor"], inv["topups_minor"], inv["offers"]) for inv in rival] == [(0, 77_700, [])]
    bad_month = m.client.get(
        "/api/v1/invoices", query_string={"month": "26-01"}, headers=m.auth("advertiser")
    )
    assert bad_month.status_code == 422 and "month" in bad_month.get_json()["error"]["fields"]


# --- the revenue report --------------------------------------------------------------------------


def revenue(m: Market, group_by: str, first: str = "2026-01-01", last: str = "2026-02-28", **extra) -> dict:
    query = {"from": first, "to": last, "currency": "USD", "group_by": group_by, **extra}
    response = m.client.get("/api/v1/admin/revenue", query_string=query, headers=m.auth("admin"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def figures(report: dict) -> list[tuple]:
    return [
        (
            row["key"],
            row["leads_approved"],
            row["margin_minor"],
            row["leads_returned"],
            row["returned_minor"],
            row["net_minor"],
        )
        for row in report["rows"]
    ]


def test_margin_by_offer_webmaster_and_day(market):
    m = market
    assert figures(revenue(m, "offer")) == [
        (str(m.roofing.id), 2, 2000, 0, 0, 2000),
        (str(m.solar.id), 2, 1000, 1, 500, 500),
    ]
    assert [row["label"] for row in revenue(m, "offer")["rows"]] == ["Roofing Beta", "Solar Alpha"]
    assert figures(revenue(m, "webmaster")) == [
        (str(m.w1.id), 2, 1500, 0, 0, 1500),
        (str(m.w2.id), 2, 1500, 1, 500, 1000),
    ]
    assert figures(revenue(m, "day")) == [
        ("2026-01-12", 1, 500, 0, 0, 500),
        ("2026-01-13", 1, 1000, 0, 0, 1000),
        ("2026-01-31", 1, 500, 0, 0, 500),
        ("2026-02-01", 0, 0, 1, 500, -500),
        ("2026-02-02", 1, 1000, 0, 0, 1000),
    ]
    for group_by in ("offer", "webmaster", "day"):
        total = revenue(m, group_by)["total"]
        assert (
            total["leads_approved"],
            total["margin_minor"],
            total["returned_minor"],
            total["net_minor"],
        ) == (
            4,
            3000,
            500,
            2500,
        )


def test_the_revenue_total_is_the_change_of_the_revenue_account(market):
    ranges = [
        ("2026-01-01", "2026-02-28", 2500),
        ("2026-01-01", "2026-01-31", 2000),
        ("2026-01-13", "2026-02-01", 1000),  # 10.00 on the 13th, 5.00 on the 31st, -5.00 on the 1st
        ("2026-02-01", "2026-02-01", -500),
        ("2026-01-14", "2026-01-30", 0),
    ]
    for first, last, net in ranges:
        start, end = datetime.fromisoformat(first), datetime.fromisoformat(last) + timedelta(days=1)
        change = posted_before("platform:revenue:USD", end) - posted_before("platform:revenue:USD", start)
        assert change == net, (first, last)
        for group_by in ("offer", "webmaster", "day"):
            report = revenue(market, group_by, first, last)
            assert report["total"]["net_minor"] == change, (first, last, group_by)
            assert sum(row["net_minor"] for row in report["rows"]) == change, (first, last, group_by)


def test_the_revenue_csv_and_pages_of_rows(market):
    m = market
    query = {"from": "2026-01-01", "to": "2026-02-28", "currency": "USD", "group_by": "day"}
    response = m.client.get("/api/v1/admin/revenue.csv", query_string=query, headers=m.auth("admin"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(text)))
    *days, total = table
    assert [(row["key"], row["net"]) for row in days] == [
        ("2026-01-12", "5.00"),
        ("2026-01-13", "10.00"),
        ("2026-01-31", "5.00"),
        ("2026-02-01", "-5.00"),  # a number, not text guarded against formulas
        ("2026-02-02", "10.00"),
    ]
    assert (total["key"], total["net"], total["margin"], total["returned"]) == (
        "total",
        "25.00",
        "30.00",
        "5.00",
    )
    same = m.client.get(
        "/api/v1/admin/revenue", query_string={**query, "format": "csv"}, headers=m.auth("admin")
    )
    assert same.get_data(as_text=True) == text
    paged = revenue(m, "day", page=2, per_page=2)
    assert [row["key"] for row in paged["rows"]] == ["2026-01-31", "2026-02-01"]
    assert paged["groups"] == 5 and paged["total"]["net_minor"] == 2500


def test_the_revenue_report_is_for_admins_and_refuses_bad_ranges(market):
    m = market
    good = {"from": "2026-01-01", "to": "2026-01-31", "currency": "USD"}
    for key in ("advertiser", "w1", "moderator"):
        assert (
            m.client.get("/api/v1/admin/revenue", query_string=good, headers=m.auth(key)).status_code == 403
        )
    for params, field in (
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"currency": "usd"}, "currency"),
        ({"group_by": "week"}, "group_by"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "to"),  # its end is past the last date
    ):
        response = m.client.get(
            "/api/v1/admin/revenue", query_string={**good, **params}, headers=m.auth("admin")
        )
        assert response.status_code == 422, params
        assert field in response.get_json()["error"]["fields"], params
    no_currency = m.client.get(
        "/api/v1/admin/revenue", query_string={"from": "2026-01-01"}, headers=m.auth("admin")
    )
    assert no_currency.status_code == 422 and "currency" in no_currency.get_json()["error"]["fields"]
    assert revenue(m, "offer", currency="EUR")["rows"] == []  # no EUR revenue account: nothing, no error


# --- pages ---------------------------------------------------------------------------------------


def test_the_statement_page_for_an_advertiser(app, market):
    m, client = market, market.client
    assert login(app, client, m.advertiser.email).status_code == 302
    home = request(app, client, "GET", "/advertiser/").get_data(as_text=True)
    assert "/statements" in home and "/invoices" in home

    page = request(app, client, "GET", f"/statements?account=available&currency=USD&month={JAN}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "130.00 USD" in text and "90.00 USD" in text  # closing posted and available
    assert f"Lead {m.l1} charge" in text
    assert "/statements.csv?" in text and 'type="month"' in text
    download = request(app, client, "GET", f"/statements.csv?account=available&currency=USD&month={JAN}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.get_data(as_text=True).splitlines()[-1].startswith(",,Closing balance,")
    bad = request(app, client, "GET", "/statements?account=available&currency=USD&month=2026-13")
    assert bad.status_code == 422 and "A month like 2026-01." in bad.get_data(as_text=True)
    hold = request(app, client, "GET", f"/statements?account=hold&currency=USD&month={JAN}")
    assert hold.status_code == 422 and "One of:" in hold.get_data(as_text=True)


def test_the_statement_page_for_a_webmaster_shows_its_own_only(app, market):
    m, client = market, market.client
    assert login(app, client, m.w1.email).status_code == 302
    # The header's Money section leads to the payouts page, whose section nav lists the statements.
    assert 'href="/webmaster/payouts"' in request(app, client, "GET", "/webmaster/").get_data(as_text=True)
    assert 'href="/statements"' in request(app, client, "GET", "/webmaster/payouts").get_data(as_text=True)
    text = request(app, client, "GET", f"/statements?account=available&currency=USD&month={JAN}").get_data(
        as_text=True
    )
    assert "40.00 USD" in text and "15.00 USD" in text  # closing posted and available
    assert f"Payout {m.payout_id} requested" in text
    assert "Top-up" not in text
    forbidden = request(app, client, "GET", f"/statements?month={JAN}&code=platform:revenue:USD")
    assert forbidden.status_code == 403


def test_the_invoice_pages(app, market):
    m, client = market, market.client
    number = f"INV-{m.advertiser.id}-2026-01-USD"
    assert login(app, client, m.advertiser.email).status_code == 302
    listing = request(app, client, "GET", f"/invoices?month={JAN}")
    assert listing.status_code == 200 and number in listing.get_data(as_text=True)
    page = request(app, client, "GET", f"/invoices/{number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Solar Alpha" in text and "Roofing Beta" in text
    assert "70.00 USD" in text and "200.00 USD" in text
    assert '<article class="invoice">' in text and "<style" not in text  # the CSP allows no inline style
    stylesheet = request(app, client, "GET", "/static/site.css").get_data(as_text=True)
    assert "body:has(article.invoice) header" in stylesheet  # printed without the site's header
    request(app, client, "POST", "/logout")
    assert login(app, client, m.rival.email).status_code == 302
    assert request(app, client, "GET", f"/invoices/{number}").status_code == 404
    request(app, client, "POST", "/logout")
    assert login(app, client, m.w1.email).status_code == 302
    assert request(app, client, "GET", f"/invoices/{number}").status_code == 403


def test_the_revenue_page_for_admins(app, market):
    m, client = market, market.client
    assert login(app, client, m.admin.email).status_code == 302
    assert "/admin/revenue" in request(app, client, "GET", "/admin/").get_data(as_text=True)
    page = request(
        app, client, "GET", "/admin/revenue?from=2026-01-01&to=2026-02-28&currency=USD&group_by=offer"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Roofing Beta" in text and "25.00 USD" in text
    assert "/admin/revenue.csv?" in text
    assert request(app, client, "GET", "/admin/revenue?from=2026-03-01&to=2026-01-01").status_code == 422
    statement = request(app, client, "GET", f"/statements?month={JAN}&code=platform:revenue:USD")
    assert statement.status_code == 200 and "20.00 USD" in statement.get_data(as_text=True)
    request(app, client, "POST", "/logout")
    assert login(app, client, m.advertiser.email).status_code == 302
    assert request(app, client, "GET", "/admin/revenue").status_code == 403
