"""Exports and the decisions import as tasks (exchange/longjobs): the same rows as the
streamed exports, progress up to the total, the owner only, per-row errors, files refused
whole before any task, and a task run twice giving one result and deciding nothing twice.

On the fast suite the task's job runs in-process right after the commit that queued it,
so the task is done by the time the start request answers."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from exchange import clock
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.jobs import job_timeout
from exchange.leads.models import Lead, LeadEvent
from exchange.longjobs.domain import MAX_RUNS
from exchange.longjobs.jobs import run_long_task
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import TOO_MANY_RUNS, Superseded, claim, record_progress, stuck_task_ids
from exchange.periodic import sweep
from exchange.reports.rollup import fold
from tests.api.test_web_portal import login, request
from tests.factories import auth, balance, fund, lead_fields, make_join, make_key, make_offer, make_user

RATE = 1500


class Market:
    """An advertiser with an offer, a webmaster on it, and their API keys."""

    def __init__(self, client):
        self.client = client
        self.advertiser = make_user("advertiser")
        self.offer = make_offer(self.advertiser, rate_minor=RATE, payout_minor=1000)
        fund(self.advertiser, 100 * RATE)
        self.webmaster = make_user("webmaster")
        make_join(self.webmaster, self.offer)
        self.key, self.webmaster_key = make_key(self.advertiser), make_key(self.webmaster)

    def submitted(self, count: int) -> list[int]:
        """Leads through the API: validated, accepted into pending, their prices reserved."""
        ids = []
        for _ in range(count):
            body = {"offer_id": self.offer.id, "fields": lead_fields()}
            answer = self.client.post("/api/v1/leads", json=body, headers=auth(self.webmaster_key)).get_json()
            assert answer["status"] == "pending", answer
            ids.append(answer["id"])
        return ids

    def stored(self, count: int) -> None:
        """Leads written straight to the table (for volume): half pending, half rejected."""
        now = clock.now()
        db.session.add_all(
            Lead(
                offer_id=self.offer.id,
                advertiser_id=self.advertiser.id,
                webmaster_id=self.webmaster.id,
                fields={**lead_fields(n), "name": "=cmd|' /C calc'!A0" if n % 100 == 1 else f"P {n}"},
                sub1=f"s{n % 7}",
                status="pending" if n % 2 else "rejected",
                currency="USD",
                rate_minor=RATE,
                payout_minor=1000,
                created_at=now,
                updated_at=now,
            )
            for n in range(count)
        )
        db.session.commit()

    def api(self, method: str, path: str, key: str | None = None, **kwargs):
        return self.client.open(path, method=method, headers=auth(key or self.key), **kwargs)

    def upload(self, data: bytes, key: str | None = None):
        files = {"file": (io.BytesIO(data), "decisions.csv")}
        return self.api(
            "POST", "/api/v1/imports/decisions", key, data=files, content_type="multipart/form-data"
        )


def started(response) -> dict:
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/tasks/{response.get_json()['id']}")
    return response.get_json()


def events_per_lead(lead_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(LeadEvent.lead_id, func.count())
        .where(LeadEvent.lead_id.in_(lead_ids), LeadEvent.action.in_(("approve", "reject")))
        .group_by(LeadEvent.lead_id)
    )
    return dict(rows.all())


# -- exports ----------------------------------------------------------------------------------


def test_a_leads_export_task_gives_the_streamed_exports_rows_and_counts_up_to_them(client, ctx):
    market = Market(client)
    market.stored(1200)
    for params in ({}, {"order": "asc"}, {"status": "pending", "offer_id": market.offer.id}):
        task = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": params}))
        shown = market.api("GET", f"/api/v1/tasks/{task['id']}").get_json()
        expected = 600 if params.get("status") else 1200
        assert (shown["state"], shown["done"], shown["total"], shown["percent"]) == (
            "done",
            expected,
            expected,
            100,
        )
        download = market.api("GET", f"/api/v1/tasks/{task['id']}/download")
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert "attachment" in download.headers["Content-Disposition"]
        streamed = market.api("GET", "/api/v1/leads/export.csv", query_string=params)
        assert download.data == streamed.data
        lines = download.data.decode().splitlines()
        assert len(lines) == expected + 1
        assert lines[0].startswith("id,status,status_text,reason_codes,reasons_text")
        assert "'=cmd" in download.data.decode() and ",=cmd" not in download.data.decode()


def test_progress_is_written_after_every_batch(client, ctx, monkeypatch):
    market = Market(client)
    market.stored(1200)
    seen = []
    from exchange.longjobs import exports

    real = exports.record_progress

    def spy(task_id, run, **counts):
        seen.append((counts["done"], counts["total"]))
        real(task_id, run, **counts)

    monkeypatch.setattr(exports, "record_progress", spy)
    started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    assert seen == [(0, 1200), (500, 1200), (1000, 1200), (1200, 1200)]


def test_a_webmaster_starts_an_export_from_its_leads_page_with_its_filters(app, client, ctx):
    market = Market(client)
    lead_ids = market.submitted(3)
    market.api("POST", f"/api/v1/leads/{lead_ids[0]}/reject", json={"reason": "no"})
    login(app, client, market.webmaster.email)
    page = request(app, client, "GET", "/webmaster/leads?status=rejected")
    assert 'action="/exports/leads"' in page.text and 'name="status" value="rejected"' in page.text

    answer = request(app, client, "POST", "/exports/leads", data={"status": "rejected"})
    assert answer.status_code == 303 and "/tasks/" in answer.headers["Location"]
    task_page = request(app, client, "GET", answer.headers["Location"])
    assert task_page.status_code == 200 and "<progress" in task_page.text and "Download" in task_page.text
    task_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    download = request(app, client, "GET", f"/tasks/{task_id}/download")
    streamed = market.api("GET", "/api/v1/leads/export.csv?status=rejected", market.webmaster_key)
    assert download.data == streamed.data and len(download.data.decode().splitlines()) == 2
    assert "rate_minor" not in download.data.decode().splitlines()[0]  # a webmaster's columns
    progress = request(app, client, "GET", f"/tasks/{task_id}.json").get_json()
    assert (progress["state"], progress["done"], progress["total"]) == ("done", 1, 1)
    assert progress["download_url"] == f"/tasks/{task_id}/download"
    listing = request(app, client, "GET", "/tasks")
    assert f"/tasks/{task_id}" in listing.text


def test_an_export_with_filters_not_understood_is_not_started(app, client, ctx):
    market = Market(client)
    login(app, client, market.advertiser.email)
    answer = request(app, client, "POST", "/exports/leads", data={"status": "sideways", "since": "soon"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/advertiser/leads")
    assert "Not started" in request(app, client, "GET", "/advertiser/leads").text
    bad = market.api(
        "POST", "/api/v1/exports", json={"kind": "leads_export", "params": {"order": "sideways"}}
    )
    assert bad.status_code == 422 and "params" in bad.get_json()["error"]["fields"]
    assert market.api("POST", "/api/v1/exports", json={"kind": "payroll"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(LongTask)) == 0


def test_a_report_export_task_gives_the_streamed_reports_rows(app, client, ctx):
    market = Market(client)
    lead_ids = market.submitted(3)
    market.api("POST", f"/api/v1/leads/{lead_ids[0]}/approve", json={})
    fold()
    today = clock.now().date().isoformat()
    query = {"group_by": "day,offer", "since": today, "until": today}
    login(app, client, market.advertiser.email)
    answer = request(app, client, "POST", "/exports/report", data={**query, "back": "/advertiser/"})
    assert answer.status_code == 303, answer.text
    task_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    download = request(app, client, "GET", f"/tasks/{task_id}/download")
    streamed = market.api("GET", "/api/v1/reports.csv", query_string=query)
    assert download.data == streamed.data and len(download.data.decode().splitlines()) == 2
    refused = request(
        app, client, "POST", "/exports/report", data={"group_by": "moon", "back": "/advertiser/"}
    )
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/advertiser/")


def test_only_the_owner_and_admins_see_a_task(app, client, ctx):
    market, other = Market(client), Market(client)
    task = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    for path in (f"/api/v1/tasks/{task['id']}", f"/api/v1/tasks/{task['id']}/download"):
        assert market.api("GET", path, other.key).status_code == 404
    assert market.api("GET", "/api/v1/tasks", other.key).get_json() == []
    login(app, client, other.advertiser.email)
    for path in (f"/tasks/{task['id']}", f"/tasks/{task['id']}.json", f"/tasks/{task['id']}/download"):
        assert request(app, client, "GET", path).status_code == 404, path
    admin = make_user("admin")
    login(app, client, admin.email)
    assert request(app, client, "GET", f"/tasks/{task['id']}").status_code == 200


# -- the decisions import --------------------------------------------------------------------


def test_an_import_decides_the_good_rows_and_lists_the_bad_ones(client, ctx):
    market, stranger = Market(client), Market(client)
    a, b, c, d = market.submitted(4)
    (foreign,) = stranger.submitted(1)
    market.api("POST", f"/api/v1/leads/{d}/reject", json={"reason": "dup"})
    rows = [
        "lead_id,decision,reason",
        f"{a},approve,",
        f"{b},Reject,wrong number",
        f"{c},maybe,",
        f"{foreign},approve,",
        "abc,approve,",
        f"{d},approve,",
        "",
        f"{d},rejected,again",
    ]
    task = started(market.upload("\r\n".join(rows).encode()))
    shown = market.api("GET", f"/api/v1/tasks/{task['id']}").get_json()
    assert (shown["state"], shown["done"], shown["total"], shown["failed"]) == ("done", 7, 7, 4)
    errors = {error["row"]: error for error in shown["errors"]}
    assert sorted(errors) == [4, 5, 6, 7]
    assert errors[4]["code"] == "invalid_row" and "maybe" in errors[4]["message"]
    assert errors[5]["code"] == "not_found" and errors[5]["lead_id"] == foreign
    assert errors[6]["code"] == "invalid_row" and errors[6]["lead_id"] is None
    assert errors[7]["code"] == "lead_not_pending"
    statuses = {
        lead.id: lead for lead in db.session.scalars(select(Lead).where(Lead.id.in_([a, b, c, d, foreign])))
    }
    assert [statuses[i].status for i in (a, b, c, d, foreign)] == [
        "approved",
        "rejected",
        "pending",
        "rejected",
        "pending",
    ]
    assert statuses[b].decision_note == "wrong number"
    money = balance(client, market.key, "available")
    assert money["posted_minor"] == 100 * RATE - RATE  # one lead charged, the rejected one's price freed
    assert market.api("GET", f"/api/v1/tasks/{task['id']}/download").status_code == 409


def test_files_that_cannot_be_read_are_refused_before_any_task(app, client, ctx):
    market = Market(client)
    cases = {
        b"": "empty",
        b"id,status\n1,approve\n": "lacks lead_id, decision",
        b"lead_id,decision\n": "no rows",
        "lead_id,decision\n1,approve,caf\xe9\n".encode("latin-1"): "not UTF-8",
        b"lead_id,decision\n" + b"1,approve\n" * 10_001: "At most 10,000 rows",
        b"lead_id,decision,reason\n" + b"1,approve," + b"x" * (2 * 1024 * 1024) + b"\n": "larger than 2 MB",
        b"lead_id,decision\n" + b"1,approve\n" * (300 * 1024): "larger than 2 MB",
    }
    for data, message in cases.items():
        answer = market.upload(data)
        assert answer.status_code == 422, (message, answer.get_json())
        assert message in answer.get_json()["error"]["message"], answer.get_json()
    assert market.api("POST", "/api/v1/imports/decisions", data={}).status_code == 422
    assert market.upload(b"lead_id,decision\n1,approve\n", market.webmaster_key).status_code == 403

    login(app, client, market.advertiser.email)
    form = request(app, client, "GET", "/advertiser/leads/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    page = request(
        app, client, "POST", "/advertiser/leads/import",
        data={"file": (io.BytesIO(b"id;status\n1;ok\n"), "x.csv")}, content_type="multipart/form-data",
    )  # fmt: skip
    assert (
        page.status_code == 422
        and "lacks lead_id, decision" in page.text
        and 'aria-invalid="true"' in page.text
    )
    nothing = request(app, client, "POST", "/advertiser/leads/import", data={})
    assert nothing.status_code == 422 and "Choose a CSV file" in nothing.text
    assert db.session.scalar(select(func.count()).select_from(LongTask)) == 0


def test_an_import_from_the_page_shows_its_rows_not_decided(app, client, ctx):
    market = Market(client)
    (a,) = market.submitted(1)
    login(app, client, market.advertiser.email)
    data = f"lead_id,decision\n{a},approve\n999999,reject\n".encode()
    answer = request(
        app, client, "POST", "/advertiser/leads/import",
        data={"file": (io.BytesIO(data), "d.csv")}, content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 303
    page = request(app, client, "GET", answer.headers["Location"])
    assert "1 decided" in page.text and "1 not decided" in page.text and "No such lead." in page.text
    assert db.session.get(Lead, a).status == "approved"


# -- at least once --------------------------------------------------------------------------------


def test_running_a_task_twice_gives_one_result_and_decides_nothing_twice(client, ctx):
    market = Market(client)
    market.stored(30)
    export = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    first = market.api("GET", f"/api/v1/tasks/{export['id']}/download").data
    run_long_task(export["id"])  # rq delivered it again: done already, nothing to do
    assert db.session.get(LongTask, export["id"]).runs == 1

    buyer = Market(client)  # another advertiser: its decisions leave the first export's rows alone
    lead_ids = buyer.submitted(6)
    csv_text = "lead_id,decision\n" + "".join(f"{i},{'approve' if i % 2 else 'reject'}\n" for i in lead_ids)
    imported = started(buyer.upload(csv_text.encode()))
    run_long_task(imported["id"])
    assert events_per_lead(lead_ids) == dict.fromkeys(lead_ids, 1)

    # A worker died after deciding four rows but before writing its progress past two:
    # the task is still running; a new run goes on from row 3 and decides nothing twice.
    for task_id, done in ((export["id"], 0), (imported["id"], 2)):
        db.session.execute(
            LongTask.__table__.update().where(LongTask.id == task_id).values(state="running", done=done)
        )
    db.session.commit()
    run_long_task(export["id"])
    run_long_task(imported["id"])
    again = db.session.get(LongTask, imported["id"])
    assert (again.state, again.done, again.failed, again.runs) == ("done", 6, 0, 2)
    assert events_per_lead(lead_ids) == dict.fromkeys(lead_ids, 1)
    assert market.api("GET", f"/api/v1/tasks/{export['id']}/download").data == first
    assert db.session.scalar(select(func.count()).select_from(LongTask)) == 2


def test_a_run_replaced_by_a_newer_one_writes_nothing_more(client, ctx):
    market = Market(client)
    task = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    db.session.execute(LongTask.__table__.update().values(state="running"))
    db.session.commit()
    stale, latest = claim(task["id"]), claim(task["id"])
    assert latest == stale + 1
    try:
        record_progress(task["id"], stale, done=5, total=5)
    except Superseded:
        pass
    else:
        raise AssertionError("a replaced run wrote its progress")
    record_progress(task["id"], latest, done=1, total=5)
    assert db.session.get(LongTask, task["id"]).done == 1


def test_no_more_than_five_unfinished_tasks_at_once(client, ctx):
    market = Market(client)
    task = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    db.session.execute(LongTask.__table__.update().values(state="queued"))
    for _ in range(4):
        db.session.add(LongTask(user_id=market.advertiser.id, kind="leads_export", params={}, state="queued"))
    db.session.commit()
    refused = market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too_many_tasks"
    assert task["id"]


# -- runs stopped partway, and the runs' cap -------------------------------------------------------


def import_task(market: Market, lead_ids: list[int]) -> int:
    """A queued decisions import of ``lead_ids`` (approve odd ids, reject even), not yet run."""
    data = "lead_id,decision\n" + "".join(f"{i},{'approve' if i % 2 else 'reject'}\n" for i in lead_ids)
    task = LongTask(
        user_id=market.advertiser.id, kind="decisions_import", params={"rows": len(lead_ids)},
        source=data.encode(), errors=[],
    )  # fmt: skip
    db.session.add(task)
    db.session.commit()
    return task.id


def stop_at(monkeypatch, lead_id: int, error: Exception, times: int) -> None:
    """Make deciding ``lead_id`` raise ``error`` (before anything is written), ``times`` times."""
    from exchange.longjobs import imports

    real, left = imports.advertiser_lead, [times]

    def flaky(owner_id, asked_id):
        if asked_id == lead_id and left[0] > 0:
            left[0] -= 1
            raise error
        return real(owner_id, asked_id)

    monkeypatch.setattr(imports, "advertiser_lead", flaky)


TRANSIENT = (
    OperationalError("UPDATE leads", {}, Exception("server closed the connection unexpectedly")),
    JobTimeoutException("Task exceeded maximum timeout value (1800 seconds)"),
)


@pytest.mark.parametrize("error", TRANSIENT, ids=["database", "timeout"])
def test_a_run_stopped_partway_leaves_the_task_to_go_on_and_the_next_run_decides_each_lead_once(
    client, ctx, monkeypatch, error
):
    market = Market(client)
    lead_ids = market.submitted(30)
    task_id = import_task(market, lead_ids)
    stop_at(monkeypatch, lead_ids[27], error, times=1)  # rows 1-27 decided, progress written at 25

    with pytest.raises(type(error)):  # up to rq, whose retry runs it again
        run_long_task(task_id)
    stopped = db.session.get(LongTask, task_id)
    assert (stopped.state, stopped.done, stopped.runs) == ("queued", 25, 1)
    assert "goes on by itself" in stopped.message
    assert events_per_lead(lead_ids) == dict.fromkeys(lead_ids[:27], 1)
    shown = market.api("GET", f"/api/v1/tasks/{task_id}").get_json()
    assert shown["state"] == "queued" and shown["message"] == stopped.message

    run_long_task(task_id)
    ended = db.session.get(LongTask, task_id)
    assert (ended.state, ended.done, ended.failed, ended.runs, ended.message) == ("done", 30, 0, 2, None)
    assert events_per_lead(lead_ids) == dict.fromkeys(lead_ids, 1)


def test_a_task_stopped_in_each_of_its_runs_fails_after_the_fifth(client, ctx, monkeypatch):
    market = Market(client)
    lead_ids = market.submitted(3)
    task_id = import_task(market, lead_ids)
    stop_at(monkeypatch, lead_ids[1], OperationalError("SELECT", {}, Exception("gone")), times=99)
    for run in range(1, 6):
        with pytest.raises(OperationalError):
            run_long_task(task_id)
        assert db.session.get(LongTask, task_id).runs == run
        assert db.session.get(LongTask, task_id).state == ("queued" if run < 5 else "failed")
    failed = db.session.get(LongTask, task_id)
    assert failed.message == TOO_MANY_RUNS and failed.finished_at is not None
    run_long_task(task_id)  # rq's last retry: nothing to do
    assert db.session.get(LongTask, task_id).runs == 5
    assert events_per_lead(lead_ids) == {lead_ids[0]: 1}


def test_a_task_whose_fifth_run_was_lost_fails_when_run_again(client, ctx):
    market = Market(client)
    lead_ids = market.submitted(2)
    task_id = import_task(market, lead_ids)
    db.session.execute(LongTask.__table__.update().values(state="running", runs=MAX_RUNS))
    db.session.commit()  # a worker killed in the fifth run; the sweep queues it again
    run_long_task(task_id)
    lost = db.session.get(LongTask, task_id)
    assert (lost.state, lost.runs, lost.message) == ("failed", MAX_RUNS, TOO_MANY_RUNS)
    assert events_per_lead(lead_ids) == {}


def test_a_task_that_can_never_succeed_fails_at_its_first_run(client, ctx):
    market = Market(client)
    task = LongTask(user_id=market.advertiser.id, kind="leads_export", params={"order": "sideways"})
    db.session.add(task)
    db.session.commit()
    run_long_task(task.id)  # no exception for rq to retry
    failed = db.session.get(LongTask, task.id)
    assert (failed.state, failed.runs) == ("failed", 1)
    assert "params are no longer valid" in failed.message and "order" in failed.message


@pytest.mark.parametrize("closed", [{"is_active_user": False}, {"status": "banned"}])
def test_an_import_whose_owner_was_closed_meanwhile_decides_nothing(client, ctx, closed):
    market = Market(client)
    lead_ids = market.submitted(3)
    task_id = import_task(market, lead_ids)
    db.session.execute(User.__table__.update().where(User.id == market.advertiser.id).values(**closed))
    db.session.commit()
    run_long_task(task_id)
    failed = db.session.get(LongTask, task_id)
    assert (failed.state, failed.done) == ("failed", 0)
    assert failed.message == "The account that asked for this decisions import is closed."
    assert events_per_lead(lead_ids) == {}
    assert {db.session.get(Lead, i).status for i in lead_ids} == {"pending"}


def test_tasks_jobs_have_their_own_timeout_and_are_stuck_only_past_it(app, client, ctx):
    assert (job_timeout("tasks"), job_timeout("delivery")) == (
        app.config["TASK_JOB_TIMEOUT_SECONDS"],
        app.config["JOB_TIMEOUT_SECONDS"],
    )
    assert app.config["TASK_JOB_TIMEOUT_SECONDS"] > app.config["JOB_TIMEOUT_SECONDS"]
    market = Market(client)
    task = LongTask(user_id=market.advertiser.id, kind="leads_export", params={}, state="running")
    db.session.add(task)
    db.session.commit()
    quiet = timedelta(seconds=app.config["JOB_TIMEOUT_SECONDS"] + 60)  # stuck by the common timeout
    assert stuck_task_ids(now=task.updated_at + quiet) == []
    past = timedelta(seconds=app.config["TASK_JOB_TIMEOUT_SECONDS"] + 6)
    assert stuck_task_ids(now=task.updated_at + past) == [task.id]


# -- retention ------------------------------------------------------------------------------------


def test_finished_tasks_files_expire_and_an_expired_export_answers_410(app, client, ctx):
    market = Market(client)
    market.stored(3)
    old, recent = (
        started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))["id"]
        for _ in range(2)
    )
    lead_ids = market.submitted(1)
    imported = import_task(market, lead_ids)
    run_long_task(imported)
    days = app.config["TASK_RESULT_DAYS"]
    for task_id, age in ((old, days), (recent, days - 1), (imported, days + 1)):
        db.session.execute(
            LongTask.__table__.update()
            .where(LongTask.id == task_id)
            .values(finished_at=clock.now() - timedelta(days=age, seconds=1))
        )
    db.session.commit()

    assert sweep().tasks_expired == 2
    assert sweep().tasks_expired == 0  # once
    expired, kept, source_gone = (db.session.get(LongTask, i) for i in (old, recent, imported))
    assert (expired.result, expired.expired_at is not None, expired.state) == (None, True, "done")
    assert kept.result is not None and kept.expired_at is None
    assert source_gone.source is None and source_gone.message is None

    shown = market.api("GET", f"/api/v1/tasks/{old}").get_json()
    assert shown["expired_at"] and "start the export again" in shown["message"]
    gone = market.api("GET", f"/api/v1/tasks/{old}/download")
    assert gone.status_code == 410 and gone.get_json()["error"]["code"] == "expired"
    assert market.api("GET", f"/api/v1/tasks/{recent}/download").status_code == 200

    login(app, client, market.advertiser.email)
    page = request(app, client, "GET", f"/tasks/{old}")
    assert "start the export again" in page.text and f"/tasks/{old}/download" not in page.text
    assert request(app, client, "GET", f"/tasks/{old}/download").status_code == 410
    assert request(app, client, "GET", f"/tasks/{old}.json").get_json()["download_url"] is None
    listing = request(app, client, "GET", "/tasks")
    assert "start the export again" in listing.text and f"/tasks/{recent}/download" in listing.text


def test_a_tasks_page_and_its_progress_are_never_served_from_a_cache(app, client, ctx):
    market = Market(client)
    task = started(market.api("POST", "/api/v1/exports", json={"kind": "leads_export", "params": {}}))
    login(app, client, market.advertiser.email)

    for path in (f"/tasks/{task['id']}", f"/tasks/{task['id']}.json"):
        response = request(app, client, "GET", path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
