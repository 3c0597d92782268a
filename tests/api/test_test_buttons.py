"""The portals' test buttons as jobs: "send a test postback" (webmaster) and "send a test
lead" (advertiser) enqueue a job on the postbacks / delivery queue after the commit; the
job sends the sample to a real local receiver and records the answer in its owner's test
log (``test_sends``), which the page shows among the attempts, marked "test". No lead, no
delivery row, no notification and no money change; a second run of the job sends nothing,
and a claim whose worker died is taken again once it is stale. A test that cannot be sent
ends with the reason, and one stuck past its time is marked abandoned by the next press."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select

from billing.models import Transfer
from exchange import jobs
from exchange.db import commit
from exchange.delivery import sample_sends
from exchange.delivery.attempts import CLAIM_SECONDS
from exchange.delivery.leads import sample as lead_test
from exchange.delivery.leads.models import DeliverySetting, LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.leads.services import due_lead_ids
from exchange.delivery.leads.settings import put_setting
from exchange.delivery.models import TestSend
from exchange.delivery.postbacks import sample as postback_test
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery
from exchange.delivery.postbacks.services import set_postback_url
from exchange.delivery.sender import SendResult
from exchange.errors import Conflict
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.notifications.models import Notification
from tests.advertiser_endpoint import Answer, Endpoint
from tests.api.test_disputes import Market
from tests.api.test_web_portal import login, request
from tests.factories import auth, make_key, make_offer, make_user
from tests.tracker_server import Tracker

pytestmark = pytest.mark.usefixtures("billing_check")


@pytest.fixture
def dispatched(monkeypatch):
    """Every job handed to the queue adapter after a commit (then run as usual)."""
    seen: list[jobs.JobRequest] = []
    real = jobs.dispatch

    def spy(job_request: jobs.JobRequest) -> None:
        seen.append(job_request)
        real(job_request)

    monkeypatch.setattr(jobs, "dispatch", spy)
    return seen


def signed_in(app, client, user) -> None:
    client.delete_cookie("session", domain="exchange.test")
    assert login(app, client, user.email).status_code == 302


def body_of(app, client, path: str) -> str:
    response = request(app, client, "GET", path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows_marked_test(body: str) -> list[str]:
    table = re.search(r'<table id="attempts">.*?</table>', body, re.S).group(0)
    return re.findall(r'<tr class="test".*?</tr>', table, re.S)


def counts() -> dict:
    """Everything a test send must leave alone."""
    models = (
        Lead,
        Transfer,
        PostbackDelivery,
        PostbackAttempt,
        LeadDelivery,
        LeadDeliveryAttempt,
        Notification,
    )
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in models}


def lead_status(lead_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Lead, lead_id).status


# -- the webmaster's test postback ---------------------------------------------------------------


def test_the_test_postback_goes_out_from_a_job_and_is_logged_with_nothing_else_changed(
    app, client, ctx, dispatched
):
    market = Market(client)
    lead_id = market.pending_lead()  # before any postback URL: no delivery of its own
    signed_in(app, client, market.webmaster)
    with Tracker([200], body=b"tracked") as tracker:
        saved = request(
            app,
            client,
            "POST",
            "/webmaster/postbacks",
            data={"url_template": tracker.base + "/pb?st={status}"},
        )
        assert saved.status_code == 303
        before = counts()

        pressed = request(app, client, "POST", "/webmaster/postbacks/test")
        requests = list(tracker.requests)

    assert pressed.status_code == 303
    (job,) = [d for d in dispatched if d.func == "exchange.delivery.postbacks.jobs.send_test_postback_job"]
    sample = db.session.scalar(select(TestSend).where(TestSend.owner_user_id == market.webmaster.id))
    assert (job.queue, job.job_id, job.args) == ("postbacks", f"test-postback-{sample.id}", (sample.id,))
    assert requests == ["/pb?st=approved"]
    db.session.refresh(sample)
    assert (sample.kind, sample.state, sample.offer_id) == ("postback", "sent", None)
    assert (sample.status_code, sample.response_excerpt) == (200, "tracked")
    assert sample.url == tracker.base + "/pb?st=approved" and sample.delivered
    assert counts() == before and lead_status(lead_id) == "pending"

    body = body_of(app, client, "/webmaster/postbacks")
    assert "Test postback queued: its answer appears in the attempt log below." in body
    (row,) = rows_marked_test(body)
    assert "<td>test</td>" in row and "<td>200</td>" in row and "queued" not in row


def test_a_second_run_of_the_test_postback_job_sends_nothing(app, client, ctx):
    webmaster = make_user("webmaster")
    with Tracker([200]) as tracker:
        set_postback_url(webmaster.id, None, tracker.base + "/pb", {})
        sample = postback_test.queue_test_postback(webmaster.id)
        commit()  # the job runs (in-process) after this commit
        again = postback_test.send_test_postback(sample.id)
        requests = list(tracker.requests)

    assert again == "done" and requests == ["/pb"]


def test_a_test_postback_without_a_url_is_refused_and_nothing_is_queued(app, client, ctx, dispatched):
    webmaster = make_user("webmaster")
    signed_in(app, client, webmaster)

    pressed = request(app, client, "POST", "/webmaster/postbacks/test")

    assert pressed.status_code == 303
    assert "Save your postback URL first." in body_of(app, client, "/webmaster/postbacks")
    assert not [d for d in dispatched if "test" in (d.job_id or "")]
    assert db.session.scalar(select(func.count()).select_from(TestSend)) == 0


def test_a_second_test_waits_for_the_first_one(app, client, ctx):
    webmaster = make_user("webmaster")
    set_postback_url(webmaster.id, None, "https://tracker.example.com/pb", {})
    postback_test.queue_test_postback(webmaster.id)  # queued, its job not run yet (no commit)

    with pytest.raises(Conflict, match="already on its way"):
        postback_test.queue_test_postback(webmaster.id)


def test_an_offers_test_postback_uses_its_own_url(app, client, ctx):
    market = Market(client)
    signed_in(app, client, market.webmaster)
    with Tracker([200]) as tracker:
        request(app, client, "POST", "/webmaster/postbacks", data={"url_template": tracker.base + "/global"})
        request(
            app,
            client,
            "POST",
            f"/webmaster/postbacks/offers/{market.offer_id}",
            data={"url_template": tracker.base + "/offer?o={offer_id}"},
        )
        pressed = request(app, client, "POST", f"/webmaster/postbacks/offers/{market.offer_id}/test")
        requests = list(tracker.requests)

    assert pressed.status_code == 303
    assert requests == [f"/offer?o={market.offer_id}"]
    (row,) = rows_marked_test(body_of(app, client, "/webmaster/postbacks"))
    assert f"test (offer {market.offer_id})" in row


# -- the advertiser's test lead -----------------------------------------------------------------


def test_the_test_lead_goes_out_from_a_job_signed_and_its_decision_is_not_applied(
    app, client, ctx, dispatched
):
    market = Market(client)
    lead_id = market.pending_lead()  # before any endpoint: no delivery of its own
    signed_in(app, client, market.advertiser)
    with Endpoint([Answer.decision("approve")]) as endpoint:
        put_setting(market.advertiser.id, None, endpoint.url)
        commit()
        before = counts()

        pressed = request(app, client, "POST", "/advertiser/delivery/test")
        received = list(endpoint.received)

    assert pressed.status_code == 303
    (job,) = [d for d in dispatched if d.func == "exchange.delivery.leads.jobs.send_test_lead_job"]
    sample = db.session.scalar(select(TestSend).where(TestSend.owner_user_id == market.advertiser.id))
    assert (job.queue, job.job_id) == ("delivery", f"test-lead-{sample.id}")
    db.session.refresh(sample)
    assert (sample.kind, sample.state, sample.decision) == ("lead", "sent", "approve")
    (sent,) = received
    assert sent.json()["test"] is True and sent.json()["event"] == "lead.test"
    assert sent.headers["X-Exchange-Signature"].startswith("v1=")
    assert counts() == before and lead_status(lead_id) == "pending"  # the "approve" is not applied

    body = body_of(app, client, "/advertiser/delivery")
    assert "Test lead queued: its answer appears in the delivery attempts below." in body
    (row,) = rows_marked_test(body)
    assert "<td>200</td>" in row and "approve (shown, not applied)" in row


def test_a_second_run_of_the_test_lead_job_sends_nothing(app, client, ctx):
    advertiser = make_user("advertiser")
    with Endpoint() as endpoint:
        put_setting(advertiser.id, None, endpoint.url)
        sample = lead_test.queue_test_lead(advertiser.id)
        commit()
        again = lead_test.send_test_lead(sample.id)
        received = list(endpoint.received)

    assert again == "done" and len(received) == 1


def test_a_test_lead_to_an_endpoint_that_fails_is_logged_and_not_retried(app, client, ctx):
    advertiser = make_user("advertiser")
    signed_in(app, client, advertiser)
    with Endpoint([Answer(503, b"down")]) as endpoint:
        put_setting(advertiser.id, None, endpoint.url)
        commit()
        request(app, client, "POST", "/advertiser/delivery/test")
        due = due_lead_ids()
        received = len(endpoint.received)

    assert received == 1 and due == []
    (row,) = rows_marked_test(body_of(app, client, "/advertiser/delivery"))
    assert "<td>503</td>" in row and "HTTP 503" in row


# -- the log of tests: its own table, not the notifications ----------------------------------------


def test_tests_are_not_listed_among_the_notifications(app, client, ctx):
    webmaster, advertiser = make_user("webmaster"), make_user("advertiser")
    signed_in(app, client, webmaster)
    with Tracker([200]) as tracker, Endpoint() as endpoint:
        set_postback_url(webmaster.id, None, tracker.base + "/pb", {})
        put_setting(advertiser.id, None, endpoint.url)
        commit()
        pressed = request(app, client, "POST", "/webmaster/postbacks/test")
        advertiser_key = make_key(advertiser)
        queued = client.post("/api/v1/delivery-settings/test", json={}, headers=auth(advertiser_key))
        sent = (len(tracker.requests), len(endpoint.received))

    assert pressed.status_code == 303 and queued.status_code == 202 and sent == (1, 1)
    assert db.session.scalar(select(func.count()).select_from(TestSend)) == 2
    for user, home in ((webmaster, "/webmaster/"), (advertiser, "/advertiser/")):
        listed = client.get("/api/v1/notifications", headers=auth(make_key(user))).get_json()
        assert (listed["total"], listed["items"]) == (0, [])
        signed_in(app, client, user)
        assert "No messages." in body_of(app, client, home)


def test_a_claim_whose_worker_died_is_taken_again_once_stale(app, client, ctx, frozen_clock):
    webmaster = make_user("webmaster")
    set_postback_url(webmaster.id, None, "https://tracker.example.com/pb", {})
    sample = postback_test.queue_test_postback(webmaster.id)  # not committed: its job has not run
    kind = postback_test.KIND

    assert sample_sends.claim(sample.id, kind) is not None  # a worker claims it, then dies
    frozen_clock.advance(seconds=CLAIM_SECONDS - 1)
    assert sample_sends.claim(sample.id, kind) is None  # still the first worker's
    with pytest.raises(Conflict, match="already on its way"):
        postback_test.queue_test_postback(webmaster.id)

    retaken_at = frozen_clock.advance(seconds=2)
    retaken = sample_sends.claim(sample.id, kind)

    assert retaken is not None and (retaken.state, retaken.claimed_at) == ("sending", retaken_at)
    assert sample_sends.claim(sample.id, "lead") is None  # a test is claimed as its own kind only


def test_a_sent_test_is_never_claimed_or_recorded_again(app, client, ctx, frozen_clock):
    webmaster = make_user("webmaster")
    set_postback_url(webmaster.id, None, "https://tracker.example.com/pb", {})
    sample = postback_test.queue_test_postback(webmaster.id)
    sample_sends.claim(sample.id, postback_test.KIND)
    recorded_at = frozen_clock.now
    first = sample_sends.record(sample.id, postback_test.KIND, SendResult(204, 12, None, ""))
    frozen_clock.advance(seconds=CLAIM_SECONDS * 10)

    late = sample_sends.record(sample.id, postback_test.KIND, SendResult(500, 9, "HTTP 500", "late"))

    assert (first, late) == ("sent", "done")
    assert sample_sends.claim(sample.id, postback_test.KIND) is None
    kept = db.session.get(TestSend, sample.id)
    assert (kept.state, kept.status_code, kept.latency_ms, kept.sent_at) == (
        "sent",
        204,
        12,
        recorded_at,
    )


# -- a test that cannot end with an answer still ends --------------------------------------------


def test_a_test_lead_that_can_no_longer_be_sent_ends_with_the_reason_and_frees_the_button(app, client, ctx):
    advertiser, new_owner = make_user("advertiser"), make_user("advertiser")
    offer = make_offer(advertiser)
    with Endpoint() as endpoint:
        put_setting(advertiser.id, None, endpoint.url)
        commit()
        sample = lead_test.queue_test_lead(advertiser.id, offer.id)
        offer.advertiser_id = new_owner.id  # the offer is no longer the advertiser's
        commit()  # the job runs (in-process) after this commit
        received = list(endpoint.received)

    db.session.refresh(sample)
    assert received == []
    assert (sample.state, sample.status_code, sample.error) == ("sent", None, "not sent: No such offer.")
    assert lead_test.queue_test_lead(advertiser.id).state == "queued"  # not "already on its way"


def test_a_test_lead_whose_endpoint_was_removed_ends_with_the_reason(app, client, ctx):
    advertiser = make_user("advertiser")
    put_setting(advertiser.id, None, "https://endpoint.example.com/leads")
    commit()
    sample = lead_test.queue_test_lead(advertiser.id)
    db.session.execute(delete(DeliverySetting).where(DeliverySetting.advertiser_id == advertiser.id))

    state = lead_test.send_test_lead(sample.id)

    db.session.refresh(sample)
    assert (state, sample.state, sample.error) == ("sent", "sent", "not sent: no delivery URL any more")
    assert sample_sends.log_row(sample)["number"] is None  # nothing went out: no attempt


@pytest.mark.parametrize("worker_claimed", [True, False], ids=["its-worker-died", "no-worker-took-it"])
def test_a_stuck_test_is_marked_abandoned_when_the_button_is_pressed_again(
    app, client, ctx, frozen_clock, worker_claimed
):
    webmaster = make_user("webmaster")
    set_postback_url(webmaster.id, None, "https://tracker.example.com/pb", {})
    stuck = postback_test.queue_test_postback(webmaster.id)  # not committed: its job never runs
    if worker_claimed:
        assert sample_sends.claim(stuck.id, postback_test.KIND) is not None
    frozen_clock.advance(seconds=CLAIM_SECONDS)

    again = postback_test.queue_test_postback(webmaster.id)

    db.session.refresh(stuck)
    why = sample_sends.CUT_OFF if worker_claimed else sample_sends.NOT_TAKEN
    assert (stuck.state, stuck.status_code, stuck.sent_at, stuck.error) == ("sent", None, None, why)
    assert again.state == "queued" and again.id != stuck.id
    assert sample_sends.claim(stuck.id, postback_test.KIND) is None  # ended: no rerun sends it
    assert sample_sends.log_row(stuck)["error"].startswith("abandoned")


def test_a_test_still_within_its_time_is_not_abandoned(app, client, ctx, frozen_clock):
    webmaster = make_user("webmaster")
    set_postback_url(webmaster.id, None, "https://tracker.example.com/pb", {})
    sending = postback_test.queue_test_postback(webmaster.id)
    frozen_clock.advance(seconds=CLAIM_SECONDS)
    sample_sends.claim(sending.id, postback_test.KIND)  # taken late, but being sent now
    frozen_clock.advance(seconds=CLAIM_SECONDS - 1)

    with pytest.raises(Conflict, match="already on its way"):
        postback_test.queue_test_postback(webmaster.id)
    db.session.refresh(sending)
    assert (sending.state, sending.error) == ("sending", None)
