"""Metrics (docs/operations.md, "Metrics"): ``/metrics`` only with METRICS_ENABLED (and the
token when one is set); requests counted by endpoint, method and status, the click fast path
too; clicks answered and stored; leads' transitions, ledger transfers and outbound calls
counted when their transaction commits, never when it rolls back; jobs timed, with when
each last finished; the oldest received lead's age read at the scrape. Counters are the
process's, so each test compares a scrape before with one after. Runs on both backends;
Redis and rq's queues, and gunicorn's processes: tests/services/test_metrics_services.py."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exchange import clock
from exchange.actors import Actor
from exchange.extensions import db
from exchange.jobs import job
from exchange.leads.jobs import sweep_leads_job
from exchange.leads.models import Lead
from exchange.leads.transitions import move
from tests.conftest import _build_app
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.tracker_server import Tracker

Samples = dict[tuple[str, frozenset], float]


@pytest.fixture
def metrics_app(app, database_url, tmp_path, db_session):
    """An app with METRICS_ENABLED on the test's database and rolled-back session."""
    built = _build_app(database_url, str(tmp_path / "instance"), METRICS_ENABLED=True)
    yield built
    with built.app_context():
        db.engine.dispose()


def scrape(client, headers: dict | None = None) -> Samples:
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200, answer.data
    assert answer.content_type.startswith("text/plain; version=")
    return samples_of(answer.get_data(as_text=True))


def samples_of(text: str) -> Samples:
    """Each sample of a Prometheus text answer, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_are_not_served_unless_enabled(client):
    assert client.get("/metrics").status_code == 404


def test_with_a_token_only_a_scrape_that_carries_it_is_answered(app, database_url, tmp_path, db_session):
    guarded = _build_app(
        database_url, str(tmp_path / "instance"), METRICS_ENABLED=True, METRICS_TOKEN="s3cret-42"
    )
    client = guarded.test_client()

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    answered = scrape(client, {"Authorization": "Bearer s3cret-42"})
    assert ("exchange_oldest_received_lead_age_seconds", frozenset()) in answered


def test_requests_are_counted_by_endpoint_method_and_status_and_timed(metrics_app):
    client = metrics_app.test_client()
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(client)

    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert grew(before, after, "exchange_http_requests_total", **healthz) == 2
    assert (
        grew(before, after, "exchange_http_requests_total", endpoint="unmatched", method="GET", status="404")
        == 1
    )
    assert grew(before, after, "exchange_http_request_duration_seconds_count", endpoint="health.healthz") == 2
    assert (
        grew(
            before,
            after,
            "exchange_http_request_duration_seconds_bucket",
            endpoint="health.healthz",
            le="+Inf",
        )
        == 2
    )


def test_a_click_answered_by_the_fast_path_is_counted_answered_stored_and_as_a_request(metrics_app):
    client = metrics_app.test_client()
    with metrics_app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        token = make_join(webmaster, make_offer(advertiser)).token
    before = scrape(client)
    answer = client.get(f"/c/{token}?sub1=a")
    after = scrape(client)

    assert answer.status_code == 302
    assert grew(before, after, "exchange_clicks_answered_total") == 1
    assert grew(before, after, "exchange_clicks_stored_total") == 1  # no Redis: written at once
    click = {"endpoint": "tracking.click", "method": "GET", "status": "302"}
    assert grew(before, after, "exchange_http_requests_total", **click) == 1


def seller(app, postbacks_to: str | None = None) -> tuple[int, str]:
    """A funded offer and a webmaster who joined it (with a postback URL, if given): the
    offer's id and the webmaster's key."""
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        fund(advertiser, 100_000)
        make_join(webmaster, offer)
        key = make_key(webmaster)
        if postbacks_to:
            url = {"url_template": postbacks_to}
            assert (
                app.test_client().put("/api/v1/postback-url", json=url, headers=auth(key)).status_code == 200
            )
        return offer.id, key


def submit(client, offer_id: int, key: str):
    answer = client.post(
        "/api/v1/leads", json={"offer_id": offer_id, "fields": lead_fields()}, headers=auth(key)
    )
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def test_a_submitted_leads_transitions_are_counted(metrics_app):
    client = metrics_app.test_client()
    offer_id, key = seller(metrics_app)
    before = scrape(client)
    decided = submit(client, offer_id, key)["status"]  # validated in-process before the answer
    after = scrape(client)

    transitions = "exchange_lead_transitions_total"
    assert grew(before, after, transitions, from_status="new", to_status="received") == 1
    assert grew(before, after, transitions, from_status="received", to_status=decided) == 1


def test_a_transition_rolled_back_is_not_counted(metrics_app):
    client = metrics_app.test_client()
    offer_id, key = seller(metrics_app)
    with metrics_app.app_context():
        lead = db.session.get(Lead, submit(client, offer_id, key)["id"])
        assert lead.status == "pending", lead.status
        before = scrape(client)
        assert move(lead, "approve", Actor.system("test"))
        db.session.rollback()
        rolled_back = scrape(client)
        assert move(db.session.get(Lead, lead.id), "approve", Actor.system("test"))
        db.session.commit()
        after = scrape(client)

    approved = {"from_status": "pending", "to_status": "approved"}
    assert grew(before, rolled_back, "exchange_lead_transitions_total", **approved) == 0
    assert grew(rolled_back, after, "exchange_lead_transitions_total", **approved) == 1


def test_ledger_transfers_are_counted_by_kind_when_committed(metrics_app):
    client = metrics_app.test_client()
    with metrics_app.app_context():
        advertiser = make_user("advertiser")
        before = scrape(client)
        fund(advertiser, 5000)  # a top-up: one posted transfer to the advertiser's available account
        fund(advertiser, 7000)
        after = scrape(client)

    topups = {"kind": "posted", "credit": "advertiser:available"}
    assert grew(before, after, "exchange_ledger_transfers_total", **topups) == 2


def test_outbound_calls_are_counted_by_kind_and_outcome_and_timed(metrics_app):
    client = metrics_app.test_client()
    with Tracker([200]) as tracker:
        offer_id, key = seller(metrics_app, postbacks_to=tracker.base + "/pb?s={status}")
        before = scrape(client)
        submit(client, offer_id, key)
        after = scrape(client)
        sent = len(tracker.requests)

    assert sent == 2  # received, then the lead's decision
    postbacks = {"kind": "postback_deliveries"}
    assert grew(before, after, "exchange_outbound_calls_total", outcome="ok", **postbacks) == sent
    assert grew(before, after, "exchange_outbound_call_duration_seconds_count", **postbacks) == sent


def test_an_unanswered_outbound_call_is_counted_as_such(metrics_app):
    client = metrics_app.test_client()
    with Tracker([200]) as tracker:
        closed = tracker.base  # nothing listens there once the tracker has stopped
    offer_id, key = seller(metrics_app, postbacks_to=closed + "/pb")
    before = scrape(client)
    submit(client, offer_id, key)
    after = scrape(client)

    postbacks = {"kind": "postback_deliveries"}
    assert grew(before, after, "exchange_outbound_calls_total", outcome="no_answer", **postbacks) == 2
    assert grew(before, after, "exchange_outbound_calls_total", outcome="ok", **postbacks) == 0


@job
def failing_job() -> None:
    raise RuntimeError("fails on purpose")


def test_jobs_are_timed_and_the_sweep_says_when_it_last_finished(metrics_app):
    client = metrics_app.test_client()
    with metrics_app.app_context():
        before = scrape(client)
        started = time.time()
        sweep_leads_job()
        with pytest.raises(RuntimeError):
            failing_job()
        after = scrape(client)

    finished = after[
        ("exchange_job_last_finished_timestamp_seconds", frozenset({("job", "sweep_leads_job")}))
    ]
    assert started <= finished <= time.time()
    assert (
        grew(before, after, "exchange_job_duration_seconds_count", job="sweep_leads_job", outcome="finished")
        == 1
    )
    assert (
        grew(before, after, "exchange_job_duration_seconds_count", job="failing_job", outcome="failed") == 1
    )
    assert ("exchange_job_last_finished_timestamp_seconds", frozenset({("job", "failing_job")})) not in after


def test_the_oldest_received_leads_age_is_read_at_the_scrape(metrics_app, frozen_clock):
    client = metrics_app.test_client()
    with metrics_app.app_context():
        assert scrape(client)[("exchange_oldest_received_lead_age_seconds", frozenset())] == 0
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        now = clock.now()
        for age in (90, 30):
            db.session.add(
                Lead(
                    offer_id=offer.id, advertiser_id=advertiser.id, webmaster_id=webmaster.id,
                    fields=lead_fields(), status="received", currency="USD", rate_minor=1000,
                    payout_minor=500, created_at=now - timedelta(seconds=age), updated_at=now,
                )
            )  # fmt: skip
        db.session.commit()

        assert scrape(client)[("exchange_oldest_received_lead_age_seconds", frozenset())] == 90
