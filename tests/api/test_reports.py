"""Reports over the API (docs/reports.md): clicks and leads made through the real paths,
folded, and the figures checked against what the test did."""

from __future__ import annotations

import csv
import io

import pytest

from exchange import clock
from exchange.reports.rollup import fold
from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user

RATE, PAYOUT = 1500, 1000


class Market:
    """An advertiser's funded offer, a webmaster on it, and an admin."""

    def __init__(self, client):
        self.client = client
        self.advertiser, self.webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(self.advertiser, rate_minor=RATE, payout_minor=PAYOUT)
        fund(self.advertiser, 100_000)
        self.participation = make_join(self.webmaster, offer)
        self.offer_id = offer.id
        self.adv_key, self.wm_key = make_key(self.advertiser), make_key(self.webmaster)
        self.admin_key = make_key(make_user("admin"))

    def lead(self) -> int:
        response = self.client.post(
            "/api/v1/leads",
            json={"offer_id": self.offer_id, "fields": lead_fields(), "sub1": "spring"},
            headers=auth(self.wm_key),
        )
        assert response.status_code == 202, response.get_json()
        assert response.get_json()["status"] == "pending"
        return response.get_json()["id"]

    def decide(self, lead_id: int, decision: str) -> None:
        response = self.client.post(
            f"/api/v1/leads/{lead_id}/{decision}", json={"reason": "checked"}, headers=auth(self.adv_key)
        )
        assert response.status_code == 200, response.get_json()

    def report(self, key: str, **query) -> dict:
        today = clock.now().date().isoformat()
        params = {"group_by": "day,offer", "since": today, "until": today, **query}
        response = self.client.get("/api/v1/reports", query_string=params, headers=auth(key))
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def market(client, ctx):
    """Four clicks (one unique: same visitor), three leads: one approved, one rejected,
    one pending; folded."""
    market = Market(client)
    for _ in range(4):
        make_click(market.participation, sub1="spring")
    approved, rejected, market.pending_id = market.lead(), market.lead(), market.lead()
    market.decide(approved, "approve")
    market.decide(rejected, "reject")
    fold()
    return market


def only_row(answer: dict) -> dict:
    assert len(answer["rows"]) == 1, answer
    return answer["rows"][0]


def test_a_webmaster_sees_traffic_leads_rates_and_payout(market):
    row = only_row(market.report(market.wm_key))

    assert row["day"] == clock.now().date().isoformat()
    assert row["offer_id"] == market.offer_id
    assert row["currency"] == "USD"
    assert (row["clicks"], row["unique_clicks"], row["leads"]) == (4, 1, 3)
    assert (row["leads_pending"], row["leads_approved"], row["leads_rejected"]) == (1, 1, 1)
    assert row["leads_received"] == row["leads_returned"] == 0
    assert row["cr"] == "0.7500"  # 3 leads / 4 clicks
    assert row["ar"] == "0.5000"  # 1 approved / (1 approved + 1 rejected)
    assert row["payout_minor"] == PAYOUT  # the approved lead's
    assert row["epc"] == "2.5000"  # $10.00 / 4 clicks
    assert "revenue_minor" not in row and "margin_minor" not in row


def test_an_advertiser_sees_its_spend_never_the_payout(market):
    answer = market.report(market.adv_key)
    row = only_row(answer)

    assert row["revenue_minor"] == RATE
    assert row["epc"] == "3.7500"  # $15.00 / 4 clicks
    assert "payout_minor" not in row and "margin_minor" not in row
    assert "payout_minor" not in answer["columns"]


def test_an_admin_sees_revenue_payout_and_margin(market):
    row = only_row(market.report(market.admin_key))

    assert (row["revenue_minor"], row["payout_minor"], row["margin_minor"]) == (RATE, PAYOUT, RATE - PAYOUT)


def test_a_lead_approved_after_a_fold_moves_at_the_next_fold(market):
    market.decide(market.pending_id, "approve")
    before = only_row(market.report(market.wm_key))
    fold()
    after = only_row(market.report(market.wm_key))

    assert (before["leads_pending"], before["leads_approved"]) == (1, 1)  # as fresh as the last fold
    assert (after["leads_pending"], after["leads_approved"]) == (0, 2)
    assert after["payout_minor"] == 2 * PAYOUT
    assert after["ar"] == "0.6667"  # 2 / 3, half up


def test_grouping_by_sub1_and_country_splits_clicks_from_leads(market):
    rows = market.report(market.wm_key, group_by="sub1,country")["rows"]

    by_country = {row["country"]: row for row in rows}
    assert set(by_country) == {"", "US"}  # the test clicks' IP has no country; the leads say US
    assert {row["sub1"] for row in rows} == {"spring"}
    assert (by_country[""]["clicks"], by_country[""]["leads"]) == (4, 0)
    assert (by_country["US"]["clicks"], by_country["US"]["leads"]) == (0, 3)
    assert by_country["US"]["cr"] is None  # no clicks: no rate


def test_grouped_by_hour_the_figures_are_the_same(market):
    row = only_row(market.report(market.admin_key, group_by="hour"))

    assert row["hour"].startswith(clock.now().date().isoformat())
    assert (row["clicks"], row["leads"], row["margin_minor"]) == (4, 3, RATE - PAYOUT)


def test_filters_narrow_the_rows(market):
    assert market.report(market.wm_key, sub1="autumn")["rows"] == []
    assert market.report(market.wm_key, country="us", group_by="country")["rows"][0]["leads"] == 3
    assert only_row(market.report(market.admin_key, offer_id=market.offer_id))["clicks"] == 4


def test_others_see_none_of_it(client, market):
    stranger_advertiser, stranger_webmaster = (
        make_key(make_user("advertiser")),
        make_key(make_user("webmaster")),
    )

    assert market.report(stranger_advertiser)["rows"] == []
    assert market.report(stranger_webmaster)["rows"] == []
    assert market.report(stranger_advertiser, offer_id=market.offer_id)["rows"] == []


def test_the_csv_export_has_a_header_and_money_in_major_units(client, market):
    today = clock.now().date().isoformat()
    response = client.get(
        "/api/v1/reports.csv",
        query_string={"group_by": "day,offer", "since": today, "until": today},
        headers=auth(market.wm_key),
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, line = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:3] == ["day", "offer_id", "currency"]
    assert "revenue" not in header and "margin" not in header
    assert (line["clicks"], line["leads"], line["payout"], line["epc"]) == ("4", "3", "10.00", "2.5000")
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "day,planet"}, "group_by"),
        ({"group_by": "day,hour"}, "group_by"),
        ({"group_by": "offer,offer"}, "group_by"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"since": "2025-01-01", "until": "2026-01-03"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"country": "USA"}, "country"),
        ({"offer_id": "0"}, "offer_id"),
    ],
)
def test_bad_arguments_answer_422_naming_the_field(client, ctx, query, field):
    key = make_key(make_user("webmaster"))
    response = client.get("/api/v1/reports", query_string=query, headers=auth(key))

    assert response.status_code == 422
    assert field in str(response.get_json()), response.get_json()


def test_without_a_key_the_report_is_refused(client, ctx):
    assert client.get("/api/v1/reports").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/reports.csv"])
def test_a_webmaster_may_not_group_by_advertiser_who_may_see_it_themselves(client, market, path):
    refused = client.get(path, query_string={"group_by": "day,advertiser"}, headers=auth(market.wm_key))
    own = client.get(path, query_string={"group_by": "day,advertiser"}, headers=auth(market.adv_key))

    own.get_data(), own.close()  # a CSV streams inside its request context: read it to the end

    assert refused.status_code == 403  # the role may not see it, however well formed (issue 17)
    assert refused.get_json()["error"]["fields"] == {"group_by": ["Not available: advertiser."]}
    assert own.status_code == 200


def test_a_webmaster_may_not_export_a_report_by_advertiser_as_a_task(client, market):
    refused = client.post(
        "/api/v1/exports",
        json={"kind": "report_export", "params": {"group_by": "day,advertiser"}},
        headers=auth(market.wm_key),
    )

    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["fields"] == {"group_by": ["Not available: advertiser."]}
