"""Long tasks on real rq workers, PostgreSQL and Redis: an export and an import run by a
worker on the ``tasks`` queue while the test polls their progress, and an import whose
worker is killed (SIGKILL) in the middle, found stuck and run again: every lead decided
exactly once, the ledger's invariants intact."""

from __future__ import annotations

import time

from rq.job import Job
from sqlalchemy import func, select

from billing.check import run_checks
from exchange import clock
from exchange.db import commit
from exchange.extensions import db
from exchange.jobs import redis_connection
from exchange.leads.models import Lead, LeadEvent
from exchange.longjobs.models import LongTask
from exchange.longjobs.services import job_id, start_decisions_import, start_leads_export, stuck_task_ids
from exchange.periodic import sweep
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.http_harness import process_env
from tests.services.workers import kill_hard, row_locked, start_worker, stop, wait_until

RATE = 1500
TIMEOUT = 4  # a tasks job's timeout: a dead worker's task counts as stuck 9 s after its last sign of life


def market(app, pending: int = 0, stored: int = 0):
    """An advertiser and a webmaster; ``pending`` leads validated in-process (the app has no
    REDIS_URL), ``stored`` leads written straight to the table. ``app`` is built by
    ``setup_app``: its leads go in faster than the intake limit's 50 a second allows."""
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        fund(advertiser, (pending + 1) * RATE)
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000)
        make_join(webmaster, offer)
        webmaster_key, key = make_key(webmaster), make_key(advertiser)
        client = app.test_client()
        ids = []
        for _ in range(pending):
            body = {"offer_id": offer.id, "fields": lead_fields()}
            answer = client.post("/api/v1/leads", json=body, headers=auth(webmaster_key)).get_json()
            assert answer["status"] == "pending", answer
            ids.append(answer["id"])
        now = clock.now()
        db.session.add_all(
            Lead(
                offer_id=offer.id, advertiser_id=advertiser.id, webmaster_id=webmaster.id,
                fields=lead_fields(n), status="pending", currency="USD", rate_minor=RATE,
                payout_minor=1000, created_at=now, updated_at=now,
            )
            for n in range(stored)
        )  # fmt: skip
        db.session.commit()
        return advertiser.id, key, ids


def setup_app(live_app_factory):
    """The app that makes the market: rate limits off, they are not what these tests are about
    (on a fast machine 50 leads fell in one second and the 51st was refused with a 429)."""
    return live_app_factory(RATELIMIT_ENABLED=False)


def poll(app, key: str, task_id: int, until_state: str = "done", seconds: float = 120) -> list[int]:
    """GET /api/v1/tasks/<id> until the task is in ``until_state``: the ``done`` counts seen."""
    seen, deadline = [], time.monotonic() + seconds
    with app.app_context():
        client = app.test_client()
        while True:
            shown = client.get(f"/api/v1/tasks/{task_id}", headers=auth(key)).get_json()
            seen.append(shown["done"])
            if shown["state"] == until_state:
                assert until_state != "done" or shown["done"] == shown["total"], shown
                return seen
            assert shown["state"] != "failed", shown
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {shown['state']}: {shown}")
            time.sleep(0.01)


def decisions_per_lead(app, lead_ids: list[int]) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(LeadEvent.lead_id, func.count())
            .where(LeadEvent.lead_id.in_(lead_ids), LeadEvent.action.in_(("approve", "reject")))
            .group_by(LeadEvent.lead_id)
        )
        return dict(rows.all())


def test_a_worker_runs_an_export_and_an_import_while_the_progress_moves(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    setup = setup_app(live_app_factory)
    advertiser_id, key, lead_ids = market(setup, pending=40, stored=6000)
    app = live_app_factory(REDIS_URL=redis_url)
    worker = start_worker(process_env(live_database_url, str(tmp_path / "w"), redis_url), "tasks")
    try:
        with app.app_context():
            from exchange.accounts.models import User

            advertiser = db.session.get(User, advertiser_id)
            export_id = start_leads_export(advertiser, {"status": "pending", "order": "desc"}).id
            commit()
            job = Job.fetch(job_id(export_id), connection=redis_connection(redis_url))
            assert job.timeout == app.config["TASK_JOB_TIMEOUT_SECONDS"] != app.config["JOB_TIMEOUT_SECONDS"]
        seen = poll(app, key, export_id)
        assert seen == sorted(seen) and seen[-1] == 6040
        assert any(0 < done < 6040 for done in seen), seen  # the bar moved on its way, not in one jump

        rows = "".join(
            f"{lead_id},{'approve' if n % 3 else 'reject'},checked\n" for n, lead_id in enumerate(lead_ids)
        )
        with app.app_context():
            advertiser = db.session.get(User, advertiser_id)
            import_id = start_decisions_import(advertiser, ("lead_id,decision,reason\n" + rows).encode()).id
            commit()
        seen = poll(app, key, import_id)
        assert seen[-1] == 40 and seen == sorted(seen)
        assert decisions_per_lead(app, lead_ids) == dict.fromkeys(lead_ids, 1)
        with app.app_context():
            download = app.test_client().get(f"/api/v1/tasks/{export_id}/download", headers=auth(key))
            assert download.status_code == 200 and len(download.data.decode().splitlines()) == 6041
    finally:
        stop(worker)


def test_an_import_whose_worker_is_killed_is_run_again_and_decides_each_lead_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    setup = setup_app(live_app_factory)
    advertiser_id, key, lead_ids = market(setup, pending=60)
    app = live_app_factory(REDIS_URL=redis_url, TASK_JOB_TIMEOUT_SECONDS=TIMEOUT)
    env = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    rows = "".join(f"{lead_id},{'approve' if n % 2 else 'reject'}\n" for n, lead_id in enumerate(lead_ids))
    blocked_at = lead_ids[40]  # rows 1..25 and 26..40 decided, progress written at 25

    with row_locked(app, blocked_at):  # the worker waits for this lead's row lock, mid-import
        with app.app_context():
            from exchange.accounts.models import User

            task_id = start_decisions_import(
                db.session.get(User, advertiser_id), ("lead_id,decision\n" + rows).encode()
            ).id
            commit()
        worker = start_worker(env, "tasks")
        try:
            poll(app, key, task_id, until_state="running")
            wait_until(lambda: len(decisions_per_lead(app, lead_ids)) == 40, "40 rows are decided")
            time.sleep(0.2)  # the worker is waiting for the lock on the 41st
        finally:
            kill_hard(worker)

    with app.app_context():
        killed = db.session.get(LongTask, task_id)
        assert (killed.state, killed.done, killed.total) == ("running", 25, 60)
        assert stuck_task_ids() == []  # not yet: its run might be alive
    assert decisions_per_lead(app, lead_ids) == dict.fromkeys(lead_ids[:40], 1)

    def found_stuck() -> bool:
        with app.app_context():
            return stuck_task_ids() == [task_id]

    wait_until(found_stuck, "the task is found stuck", seconds=30)
    with app.app_context():
        assert sweep().tasks_requeued == 1  # the periodic sweep queues it again (and commits)
    worker = start_worker(env, "tasks")
    try:
        poll(app, key, task_id)
    finally:
        stop(worker)
    with app.app_context():
        done = db.session.get(LongTask, task_id)
        assert (done.state, done.done, done.failed, done.runs) == ("done", 60, 0, 2)
        statuses = dict(db.session.execute(select(Lead.id, Lead.status).where(Lead.id.in_(lead_ids))).all())
        assert [statuses[i] for i in lead_ids] == [
            "rejected" if n % 2 == 0 else "approved" for n in range(60)
        ]
        problems = run_checks()
        assert not any(problems.values()), problems
    assert decisions_per_lead(app, lead_ids) == dict.fromkeys(lead_ids, 1)


def test_an_import_stopped_by_its_timeout_goes_on_in_rqs_retry_and_decides_each_lead_once(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    setup = setup_app(live_app_factory)
    advertiser_id, key, lead_ids = market(setup, pending=60)
    app = live_app_factory(REDIS_URL=redis_url, TASK_JOB_TIMEOUT_SECONDS=2, JOB_RETRY_INTERVALS=(1, 1))
    rows = "".join(f"{lead_id},{'approve' if n % 2 else 'reject'}\n" for n, lead_id in enumerate(lead_ids))
    worker = start_worker(process_env(live_database_url, str(tmp_path / "w"), redis_url), "tasks")
    try:
        with row_locked(app, lead_ids[40]):  # the first run waits on the 41st row past its timeout
            with app.app_context():
                from exchange.accounts.models import User

                task_id = start_decisions_import(
                    db.session.get(User, advertiser_id), ("lead_id,decision\n" + rows).encode()
                ).id
                commit()

            def stopped() -> bool:
                with app.app_context():
                    return db.session.get(LongTask, task_id).state == "queued" and bool(
                        db.session.get(LongTask, task_id).message
                    )

            wait_until(stopped, "the first run is stopped by its timeout", seconds=30)
            with app.app_context():
                waiting = db.session.get(LongTask, task_id)
                assert (waiting.done, waiting.runs) == (25, 1) and "ran out of time" in waiting.message
        poll(app, key, task_id)  # rq's retry, a second later, goes on from row 26
    finally:
        stop(worker)
    with app.app_context():
        done = db.session.get(LongTask, task_id)
        assert (done.state, done.done, done.failed) == ("done", 60, 0) and done.runs >= 2
        problems = run_checks()
        assert not any(problems.values()), problems
    assert decisions_per_lead(app, lead_ids) == dict.fromkeys(lead_ids, 1)
