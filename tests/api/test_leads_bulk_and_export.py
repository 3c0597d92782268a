"""Pulling pending leads, deciding them in bulk with per-lead outcomes, and the CSV export."""

from __future__ import annotations

import csv
import io

from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user


class Market:
    def __init__(self, client, leads: int = 4):
        self.client = client
        self.advertiser = make_user("advertiser")
        self.offer = make_offer(self.advertiser, rate_minor=1500, payout_minor=1000)
        fund(self.advertiser, 100_000)
        webmaster = make_user("webmaster")
        make_join(webmaster, self.offer)
        self.webmaster_key = make_key(webmaster)
        self.key = make_key(self.advertiser)
        self.lead_ids = [self.lead() for _ in range(leads)]

    def lead(self, fields: dict | None = None, **subs) -> int:
        body = {"offer_id": self.offer.id, "fields": fields or lead_fields(), **subs}
        response = self.client.post("/api/v1/leads", json=body, headers=auth(self.webmaster_key))
        assert response.get_json()["status"] == "pending", response.get_json()
        return response.get_json()["id"]

    def get(self, path: str, key: str | None = None):
        return self.client.get(path, headers=auth(key or self.key))

    def bulk(self, body: dict, key: str | None = None):
        return self.client.post("/api/v1/leads/bulk", json=body, headers=auth(key or self.key))


def test_pending_leads_can_be_pulled_oldest_first_after_a_cursor(client, ctx):
    market = Market(client)
    first, second, third, fourth = market.lead_ids
    page = market.get(f"/api/v1/leads?status=pending&order=asc&after_id={first}&per_page=2").get_json()
    assert [item["id"] for item in page["items"]] == [second, third] and page["total"] == 3
    newest = market.get("/api/v1/leads?status=pending").get_json()
    assert [item["id"] for item in newest["items"]] == [fourth, third, second, first]
    assert market.get("/api/v1/leads?since=2000-01-01T00:00:00Z").get_json()["total"] == 4
    assert market.get("/api/v1/leads?since=2999-01-01T00:00:00").get_json()["total"] == 0
    assert market.get("/api/v1/leads?until=2000-01-01T00:00:00%2B02:00").get_json()["total"] == 0
    assert market.get("/api/v1/leads?order=sideways").status_code == 422
    assert market.get("/api/v1/leads?since=yesterday").status_code == 422


def test_bulk_decisions_answer_per_lead_and_one_failure_undoes_nothing(client, ctx):
    market = Market(client)
    stranger = Market(client, leads=1)
    a, b, c, d = market.lead_ids
    assert market.bulk({"reject": [{"id": d, "reason": "already a customer"}]}).get_json()["rejected"] == 1

    response = market.bulk(
        {
            "approve": [a, stranger.lead_ids[0], d, 999_999],
            "reject": [{"id": b, "reason": "wrong number"}, {"id": c}],
        }
    )
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    rows = {(row["id"], row["action"]): row for row in result["results"]}
    assert [row["id"] for row in result["results"]] == [a, stranger.lead_ids[0], d, 999_999, b, c]
    assert rows[(a, "approve")]["ok"] is True
    assert rows[(a, "approve")]["status"] == "approved"
    for foreign in (stranger.lead_ids[0], 999_999):
        assert rows[(foreign, "approve")] == {
            "id": foreign,
            "action": "approve",
            "ok": False,
            "status": None,
            "code": "not_found",
            "message": "No such lead.",
        }
    assert rows[(d, "approve")]["ok"] is False and rows[(d, "approve")]["code"] == "lead_not_pending"
    assert rows[(d, "approve")]["status"] == "rejected"
    assert rows[(b, "reject")]["status"] == "rejected" and rows[(c, "reject")]["ok"] is True
    assert (result["approved"], result["rejected"], result["failed"]) == (1, 2, 3)

    statuses = {item["id"]: item for item in market.get("/api/v1/leads").get_json()["items"]}
    assert [statuses[i]["status"] for i in (a, b, c, d)] == ["approved", "rejected", "rejected", "rejected"]
    assert statuses[b]["decision_note"] == "wrong number"
    assert market.get(f"/api/v1/leads/{stranger.lead_ids[0]}", stranger.key).get_json()["status"] == "pending"
    money = balance(client, market.key, "available")
    assert (money["posted_minor"], money["pending_out_minor"]) == (100_000 - 1500, 0)


def test_bulk_input_is_checked_before_anything_is_decided(client, ctx):
    market = Market(client, leads=1)
    (lead_id,) = market.lead_ids
    for body in (
        {},
        {"approve": []},
        {"approve": list(range(1, 502))},
        {"approve": [lead_id], "reject": [{"id": lead_id}]},
        {"approve": ["1"]},
        {"approve": [0]},
        {"reject": [{"reason": "no id"}]},
        {"reject": [{"id": lead_id, "reason": "x" * 501}]},
    ):
        response = market.bulk(body)
        assert response.status_code == 422, (body, response.get_json())
    assert market.get(f"/api/v1/leads/{lead_id}").get_json()["status"] == "pending"
    assert market.bulk({"approve": [lead_id]}, market.webmaster_key).status_code == 403


def test_the_csv_export_has_the_advertisers_columns_and_defuses_formulas(client, ctx):
    market = Market(client, leads=0)
    evil = lead_fields()
    evil["name"] = '=HYPERLINK("http://evil.example","click")'
    first = market.lead(evil, sub1="@SUM(1+1)", sub2="-2+3", sub3="plain")
    second = market.lead()
    market.bulk({"reject": [{"id": second, "reason": "+cmd|' /C calc'!A0"}]})

    response = market.get("/api/v1/leads/export.csv?order=asc")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row["id"]) for row in rows] == [first, second]
    row = rows[0]
    assert row["field_name"] == "'" + evil["name"]
    assert (row["sub1"], row["sub2"], row["sub3"]) == ("'@SUM(1+1)", "'-2+3", "plain")
    assert row["field_phone"].startswith("'+1")  # E.164 starts with +: quoted too
    assert row["rate_minor"] == "1500" and row["status"] == "pending" and row["webmaster_id"]
    assert (row["status_text"], row["reasons_text"]) == ("Pending review", "")
    assert rows[1]["decision_note"] == "'+cmd|' /C calc'!A0"
    assert (rows[1]["reason_codes"], rows[1]["reasons_text"]) == (
        "advertiser_rejected",
        "Rejected by the advertiser",
    )
    assert not any(value.startswith(("=", "+", "-", "@")) for r in rows for value in r.values())

    pending = market.get("/api/v1/leads/export.csv?status=pending").get_data(as_text=True)
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(pending))] == [first]

    webmaster_csv = market.get("/api/v1/leads/export.csv", market.webmaster_key).get_data(as_text=True)
    header = next(csv.reader(io.StringIO(webmaster_csv)))
    assert "rate_minor" not in header and "payout_minor" in header and "field_name" not in header

    stranger = make_key(make_user("advertiser"))
    assert market.get("/api/v1/leads/export.csv", stranger).get_data(as_text=True).count("\n") == 1
    assert market.get("/api/v1/leads/export.csv?status=nope").status_code == 422
