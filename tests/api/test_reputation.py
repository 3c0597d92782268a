"""Reputation (issue 6, point 7): figures from the lead events and the disputes, each party
its own, moderators everyone's. The leads are moved through the real API and services;
every expected figure is worked out by hand from what the test did."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from exchange.actors import Actor
from exchange.db import commit
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.decisions import return_lead
from exchange.leads.models import Lead
from exchange.moderation.reputation.services import party_history
from exchange.periodic import sweep
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user

T0 = datetime(2026, 1, 15, 12, 0, 0)  # the frozen clock's start: every decision but the sweep's
SWEPT_AT = T0 + timedelta(days=3, minutes=1)  # past the review window (3 days): auto-approval


class Market:
    """Two advertisers (A1, A2), three webmasters (W1, W2, W3: no leads at all).

    W1 on A1's offer:  L1 fb approved, then returned   L5 google approved
                       L2 fb approved                  L6 google rejected
                       L3 fb approved                  L7 (no sub1) approved
                       L4 fb rejected                  L8 (sub1 "") a duplicate of L7: rejected by validation
    W1 on A2's offer:  L9 fb approved
    W2 on A1's offer:  L10 mail approved, L11 mail rejected, L13 mail rejected
    W2 on A2's offer:  L12 mail left pending: auto-approved by the sweep after the review window

    Disputes (made as rows; their services are built elsewhere):
      D1 appeal of L6 resolved upheld (A1 won)      D4 return of L10 resolved overturned (W2 won)
      D2 return of L1 resolved upheld (A1 won)      D5 return of L5 escalated: open, not counted
      D3 appeal of L4 withdrawn by W1               D6 return of L7 withdrawn by A1
    """

    def __init__(self, client, frozen_clock):
        self.client = client
        self.a1, self.a2 = make_user("advertiser"), make_user("advertiser")
        self.w1, self.w2, self.w3 = make_user("webmaster"), make_user("webmaster"), make_user("webmaster")
        self.moderator, self.admin = make_user("moderator"), make_user("admin")
        self.o1, self.o2 = make_offer(self.a1), make_offer(self.a2)
        for advertiser in (self.a1, self.a2):
            fund(advertiser, 100_000)
        for webmaster in (self.w1, self.w2):
            make_join(webmaster, self.o1)
            make_join(webmaster, self.o2)
        self.keys = {
            name: make_key(getattr(self, name))
            for name in ("a1", "a2", "w1", "w2", "w3", "moderator", "admin")
        }
        self._leads(frozen_clock)
        self._disputes()

    def _leads(self, frozen_clock) -> None:
        w1, w2, o1, o2 = "w1", "w2", self.o1.id, self.o2.id
        self.l1, self.l2, self.l3, self.l4 = (self.submit(w1, o1, "fb") for _ in range(4))
        self.l5, self.l6 = self.submit(w1, o1, "google"), self.submit(w1, o1, "google")
        seventh = lead_fields()
        self.l7 = self.submit(w1, o1, None, fields=seventh)
        self.l8 = self.submit(w1, o1, "", fields=seventh, expect="rejected")
        self.l9 = self.submit(w1, o2, "fb")
        self.l10, self.l11, self.l13 = (self.submit(w2, o1, "mail") for _ in range(3))
        self.l12 = self.submit(w2, o2, "mail")
        for lead in (self.l1, self.l2, self.l3, self.l5, self.l7, self.l10):
            self.decide("a1", lead, "approve")
        for lead in (self.l4, self.l6, self.l11, self.l13):
            self.decide("a1", lead, "reject")
        self.decide("a2", self.l9, "approve")
        return_lead(self.l1, Actor(kind="user", user_id=self.a1.id, label="test"), note="wrong number")
        commit()
        frozen_clock.set(SWEPT_AT)
        assert sweep().auto_approved == 1  # L12, the only lead still pending

    def _disputes(self) -> None:
        hour = timedelta(hours=1)
        self.dispute(self.l6, "appeal", "resolved", "upheld", "moderator", resolved_at=T0 + hour)
        self.dispute(self.l1, "return", "resolved", "upheld", "party", resolved_at=T0 + hour)
        self.dispute(self.l4, "appeal", "withdrawn", updated_at=T0 + hour)
        self.dispute(
            self.l10, "return", "resolved", "overturned", "moderator", resolved_at=T0 + 2 * 24 * hour
        )
        self.dispute(self.l5, "return", "escalated", updated_at=T0 + hour)
        self.dispute(self.l7, "return", "withdrawn", updated_at=T0 + hour)
        commit()

    def submit(self, who: str, offer_id: int, sub1, *, fields=None, expect="pending") -> int:
        body = {"offer_id": offer_id, "fields": fields or lead_fields()}
        if sub1 is not None:
            body["sub1"] = sub1
        response = self.client.post("/api/v1/leads", json=body, headers=auth(self.keys[who]))
        assert response.status_code == 202, response.get_json()
        assert response.get_json()["status"] == expect, response.get_json()
        return response.get_json()["id"]

    def decide(self, who: str, lead_id: int, decision: str) -> None:
        response = self.client.post(
            f"/api/v1/leads/{lead_id}/{decision}", json={}, headers=auth(self.keys[who])
        )
        assert response.status_code == 200, response.get_json()

    def dispute(self, lead_id: int, kind: str, status: str, outcome=None, decided_by=None, **times) -> None:
        lead_row = db.session.get(Lead, lead_id)
        claimant = lead_row.webmaster_id if kind == "appeal" else lead_row.advertiser_id
        resolved_at = times.get("resolved_at")
        db.session.add(
            Dispute(
                lead_id=lead_id,
                kind=kind,
                status=status,
                advertiser_id=lead_row.advertiser_id,
                webmaster_id=lead_row.webmaster_id,
                opened_by_id=claimant,
                reason="other",
                statement="See the call recording.",
                answer_due_at=T0 + timedelta(days=2),
                escalated_at=T0 + timedelta(days=2)
                if status == "escalated" or decided_by == "moderator"
                else None,
                escalated_because="contested" if decided_by == "moderator" or status == "escalated" else None,
                outcome=outcome,
                decided_by=decided_by,
                decided_by_user_id=self.moderator.id if decided_by == "moderator" else None,
                decision_reason="Decided on the evidence." if outcome else None,
                resolved_at=resolved_at,
                created_at=T0,
                updated_at=resolved_at or times["updated_at"],
            )
        )

    def get(self, who: str, path: str, **params):
        return self.client.get(path, query_string=params, headers=auth(self.keys[who]))


@pytest.fixture
def market(client, ctx, frozen_clock):
    return Market(client, frozen_clock)


def figures(
    decided, approved, rejected, by_validation, by_advertiser, returned, ar, rr, won, lost, withdrawn
) -> dict:
    return {
        "leads_decided": decided,
        "leads_approved": approved,
        "leads_rejected": rejected,
        "rejected_by_validation": by_validation,
        "rejected_by_advertiser": by_advertiser,
        "rejected_as_fraud": 0,
        "leads_returned": returned,
        "approval_rate": ar,
        "return_rate": rr,
        "disputes_won": won,
        "disputes_lost": lost,
        "disputes_withdrawn": withdrawn,
    }


def advertiser_figures(reviewed, rejected, approved, returned, rejection, rr, won, lost, withdrawn) -> dict:
    return {
        "leads_reviewed": reviewed,
        "leads_rejected": rejected,
        "leads_approved": approved,
        "leads_returned": returned,
        "rejection_rate": rejection,
        "return_rate": rr,
        "disputes_won": won,
        "disputes_lost": lost,
        "disputes_withdrawn": withdrawn,
    }


# W1: decided L1-L9 = 9; approved L1 L2 L3 L5 L7 L9 = 6 (66.7%); rejected L4 L6 (advertiser)
# and L8 (validation) = 3; returned L1: 1 of 6 = 16.7%. Disputes: D1 and D2 lost, D3 withdrawn.
W1_TOTALS = figures(9, 6, 3, 1, 2, 1, 66.7, 16.7, 0, 2, 1)
W1_SUB_SOURCES = [
    # L7 (no sub1) and L8 (empty sub1): 1 approved of 2 decided, the other rejected by validation
    {"sub1": "(none)", **figures(2, 1, 1, 1, 0, 0, 50.0, 0.0, 0, 0, 0)},
    # L1 L2 L3 L9 approved, L4 rejected: 4 of 5; L1 returned: 1 of 4. D2 lost, D3 withdrawn.
    {"sub1": "fb", **figures(5, 4, 1, 0, 1, 1, 80.0, 25.0, 0, 1, 1)},
    # L5 approved, L6 rejected; D1 lost (D5, on L5, is still open)
    {"sub1": "google", **figures(2, 1, 1, 0, 1, 0, 50.0, 0.0, 0, 1, 0)},
]
# W2: L10 and L12 approved, L11 and L13 rejected by A1: 2 of 4; D4 won.
W2_TOTALS = figures(4, 2, 2, 0, 2, 0, 50.0, 0.0, 1, 0, 0)
W3_TOTALS = figures(0, 0, 0, 0, 0, 0, None, None, 0, 0, 0)
# A1 reviewed L1-L7, L10, L11, L13 = 10 (not L8: validation's); rejected L4 L6 L11 L13 = 4
# (40%); approved L1 L2 L3 L5 L7 L10 = 6, returned L1 (16.7%). D1 D2 won, D4 lost, D6 withdrawn.
A1_FIGURES = advertiser_figures(10, 4, 6, 1, 40.0, 16.7, 2, 1, 1)
# A2 reviewed L9 (approved) and L12 (approved by silence): nothing rejected or returned.
A2_FIGURES = advertiser_figures(2, 0, 2, 0, 0.0, 0.0, 0, 0, 0)


def test_a_webmaster_sees_its_own_totals_and_sub_sources(market):
    response = market.get("w1", "/api/v1/reputation")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["role"] == "webmaster"
    assert body["webmaster"]["id"] == market.w1.id
    assert body["totals"] == W1_TOTALS
    assert body["sub_sources"] == W1_SUB_SOURCES
    assert "advertiser" not in body


def test_the_other_webmasters_see_only_their_own(market):
    w2 = market.get("w2", "/api/v1/reputation").get_json()
    assert w2["webmaster"]["id"] == market.w2.id
    assert w2["totals"] == W2_TOTALS
    assert w2["sub_sources"] == [{"sub1": "mail", **W2_TOTALS}]
    w3 = market.get("w3", "/api/v1/reputation").get_json()
    assert (w3["totals"], w3["sub_sources"]) == (W3_TOTALS, [])


def test_an_advertiser_sees_its_own_figures(market):
    a1 = market.get("a1", "/api/v1/reputation").get_json()
    assert a1["role"] == "advertiser"
    assert a1["advertiser"]["id"] == market.a1.id
    assert a1["totals"] == A1_FIGURES
    assert "sub_sources" not in a1
    a2 = market.get("a2", "/api/v1/reputation").get_json()
    assert a2["totals"] == A2_FIGURES


def test_a_period_keeps_the_events_and_the_disputes_ended_in_it(market):
    since = (T0 + timedelta(days=1)).isoformat()
    # only the sweep's auto-approval of L12 and D4 (resolved on day 2) are after since
    w2 = market.get("w2", "/api/v1/reputation", since=since).get_json()
    assert w2["totals"] == figures(1, 1, 0, 0, 0, 0, 100.0, 0.0, 1, 0, 0)
    assert w2["since"].startswith("2026-01-16T12:00:00")
    a1 = market.get("a1", "/api/v1/reputation", since=since).get_json()
    assert a1["totals"] == advertiser_figures(0, 0, 0, 0, None, None, 0, 1, 0)
    a2 = market.get("a2", "/api/v1/reputation", since=since).get_json()
    assert a2["totals"] == advertiser_figures(1, 0, 1, 0, 0.0, 0.0, 0, 0, 0)
    # until is exclusive: the decisions at T0 and the disputes of its first hour and D6
    w1 = market.get("w1", "/api/v1/reputation", until=(T0 + timedelta(hours=2)).isoformat()).get_json()
    assert w1["totals"] == W1_TOTALS
    first = market.get("w1", "/api/v1/reputation", until=(T0 + timedelta(minutes=30)).isoformat()).get_json()
    assert first["totals"] == figures(9, 6, 3, 1, 2, 1, 66.7, 16.7, 0, 0, 0)


def test_a_period_that_ends_before_it_starts_is_refused(market):
    response = market.get("w1", "/api/v1/reputation", since=T0.isoformat(), until=T0.isoformat())
    assert response.status_code == 422
    assert "until" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("who", ["moderator", "admin"])
def test_moderators_see_one_webmaster_with_its_sub_sources(market, who):
    response = market.get(who, f"/api/v1/moderation/reputation/webmasters/{market.w1.id}")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["webmaster"] == {
        "id": market.w1.id,
        "name": market.w1.name,
        "email": market.w1.email,
        "status": "active",
    }
    assert body["totals"] == W1_TOTALS
    assert body["sub_sources"] == W1_SUB_SOURCES


@pytest.mark.parametrize("who", ["moderator", "admin"])
def test_moderators_see_one_advertiser(market, who):
    response = market.get(who, f"/api/v1/moderation/reputation/advertisers/{market.a1.id}")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["totals"] == A1_FIGURES


def _ours(page: dict, role: str, ids: list[int]) -> list[tuple[int, dict]]:
    return [(item[role]["id"], item["totals"]) for item in page["items"] if item[role]["id"] in ids]


def test_moderators_list_every_webmaster_sorted_by_approval_rate(market):
    ids = [market.w1.id, market.w2.id, market.w3.id]
    worst_first = market.get(
        "moderator",
        "/api/v1/moderation/reputation/webmasters",
        sort="approval_rate",
        order="asc",
        per_page=500,
    ).get_json()
    assert _ours(worst_first, "webmaster", ids) == [
        (market.w2.id, W2_TOTALS),  # 50%
        (market.w1.id, W1_TOTALS),  # 66.7%
        (market.w3.id, W3_TOTALS),  # no rate: last either way
    ]
    best_first = market.get(
        "moderator",
        "/api/v1/moderation/reputation/webmasters",
        sort="approval_rate",
        order="desc",
        per_page=500,
    ).get_json()
    assert [wid for wid, _ in _ours(best_first, "webmaster", ids)] == [
        market.w1.id,
        market.w2.id,
        market.w3.id,
    ]
    assert worst_first["total"] == best_first["total"] >= 3


def test_moderators_list_webmasters_by_return_rate_and_volume(market):
    ids = [market.w1.id, market.w2.id, market.w3.id]
    by_returns = market.get(
        "admin", "/api/v1/moderation/reputation/webmasters", sort="return_rate", order="desc", per_page=500
    ).get_json()
    assert [wid for wid, _ in _ours(by_returns, "webmaster", ids)] == [
        market.w1.id,
        market.w2.id,
        market.w3.id,
    ]
    busy = market.get(
        "admin", "/api/v1/moderation/reputation/webmasters", min_decided=4, sort="decided", per_page=500
    ).get_json()
    assert [wid for wid, _ in _ours(busy, "webmaster", ids)] == [market.w2.id, market.w1.id]  # 4, then 9


def test_the_webmaster_list_pages(market):
    first = market.get("moderator", "/api/v1/moderation/reputation/webmasters", per_page=1, page=1).get_json()
    second = market.get(
        "moderator", "/api/v1/moderation/reputation/webmasters", per_page=1, page=2
    ).get_json()
    assert first["total"] == second["total"] >= 3
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["webmaster"]["id"] < second["items"][0]["webmaster"]["id"]


def test_moderators_list_every_advertiser_sorted_by_rejection_rate(market):
    ids = [market.a1.id, market.a2.id]
    page = market.get(
        "moderator",
        "/api/v1/moderation/reputation/advertisers",
        sort="rejection_rate",
        order="desc",
        per_page=500,
    ).get_json()
    assert _ours(page, "advertiser", ids) == [(market.a1.id, A1_FIGURES), (market.a2.id, A2_FIGURES)]
    lenient_first = market.get(
        "moderator", "/api/v1/moderation/reputation/advertisers", sort="rejection_rate", per_page=500
    ).get_json()
    assert [aid for aid, _ in _ours(lenient_first, "advertiser", ids)] == [market.a2.id, market.a1.id]


@pytest.mark.parametrize("who", ["w1", "a1"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/moderation/reputation/webmasters",
        "/api/v1/moderation/reputation/webmasters/{w2}",
        "/api/v1/moderation/reputation/webmasters/{w1}",
        "/api/v1/moderation/reputation/advertisers",
        "/api/v1/moderation/reputation/advertisers/{a1}",
    ],
)
def test_parties_cannot_use_the_moderation_paths(market, who, path):
    response = market.get(who, path.format(w1=market.w1.id, w2=market.w2.id, a1=market.a1.id))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_role"


def test_moderators_have_no_reputation_of_their_own(market):
    assert market.get("moderator", "/api/v1/reputation").status_code == 403


def test_unknown_ids_and_the_wrong_role_are_404(market):
    assert market.get("moderator", "/api/v1/moderation/reputation/webmasters/2147483647").status_code == 404
    assert (
        market.get("moderator", f"/api/v1/moderation/reputation/webmasters/{market.a1.id}").status_code == 404
    )
    assert (
        market.get("moderator", f"/api/v1/moderation/reputation/advertisers/{market.w1.id}").status_code
        == 404
    )


def test_a_bad_sort_is_a_422(market):
    response = market.get("moderator", "/api/v1/moderation/reputation/webmasters", sort="rejection_rate")
    assert response.status_code == 422
    assert "sort" in response.get_json()["error"]["fields"]


def test_party_history_gives_both_parties_and_their_dealings(market):
    history = party_history(market.w1.id, market.a1.id)

    assert history.webmaster.as_dict() == W1_TOTALS
    assert history.advertiser.as_dict() == A1_FIGURES
    # W1 on A1's leads only (L1-L8): approved L1 L2 L3 L5 L7 = 5 of 8 (62.5%), L1 returned
    # (1 of 5: 20%); D1 and D2 lost, D3 withdrawn
    assert history.between.as_dict() == figures(8, 5, 3, 1, 2, 1, 62.5, 20.0, 0, 2, 1)
    w2_on_a2 = party_history(market.w2.id, market.a2.id, since=T0 + timedelta(days=1))
    assert w2_on_a2.between.as_dict() == figures(1, 1, 0, 0, 0, 0, 100.0, 0.0, 0, 0, 0)  # L12
    assert w2_on_a2.webmaster.as_dict() == figures(1, 1, 0, 0, 0, 0, 100.0, 0.0, 1, 0, 0)  # and D4
