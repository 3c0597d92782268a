"""Jobs that raise, on real workers: retried with backoff by rq's scheduler, then
failed, listed on the admin page, and re-queued with ``flask jobs requeue-failed``."""

from __future__ import annotations

import time
from datetime import timedelta

import redis
from rq import Queue
from rq.job import Job
from rq.utils import now
from sqlalchemy.engine import make_url

from exchange.extensions import db
from exchange.leads.models import Lead
from tests.api.test_web_portal import login, request
from tests.factories import make_user
from tests.http_harness import process_env, run_worker_burst
from tests.services.workers import queued_leads


def broken_database(database_url: str) -> str:
    """The same server, a database that does not exist: every job raises."""
    return make_url(database_url).set(database="lx_no_such_database").render_as_string(hide_password=False)


def sleep_until_the_retry_is_due(job: Job) -> None:
    due = Queue(job.origin, connection=job.connection).scheduled_job_registry.get_scheduled_time(job)
    time.sleep(max((due - now()).total_seconds(), 0) + 0.2)


def lead_status(app, lead_id: int) -> str:
    with app.app_context():
        status = db.session.get(Lead, lead_id).status
        db.session.remove()
        return status


def test_a_job_that_raises_is_retried_after_its_backoff_and_then_succeeds(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url, JOB_RETRY_INTERVALS=[2, 30])
    connection = redis.Redis.from_url(redis_url)
    [lead_id] = queued_leads(app, 1)
    job_id = f"validate-lead-{lead_id}"
    broken = process_env(broken_database(live_database_url), str(tmp_path / "b"), redis_url)

    started = now()
    first = run_worker_burst(broken, "validation")
    ended = now()

    assert first.returncode == 0, first.stderr
    job = Job.fetch(job_id, connection=connection)
    queue = Queue("validation", connection=connection)
    assert job.get_status() == "scheduled"  # not failed: waiting for its retry
    assert job.retries_left == 1
    assert job_id in queue.scheduled_job_registry.get_job_ids()
    due = queue.scheduled_job_registry.get_scheduled_time(job)
    assert started + timedelta(seconds=1) < due <= ended + timedelta(seconds=2)  # 2 s, in whole seconds
    assert queue.failed_job_registry.count == 0

    sleep_until_the_retry_is_due(job)
    healthy = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    second = run_worker_burst(healthy, "validation")  # its scheduler moves the due retry to the queue

    assert second.returncode == 0, second.stderr
    assert job.get_status(refresh=True) == "finished", second.stderr
    assert lead_status(app, lead_id) == "pending"


def test_failed_jobs_are_listed_for_admins_and_requeued_by_the_cli(
    live_app_factory, live_database_url, redis_url, tmp_path
):
    app = live_app_factory(REDIS_URL=redis_url, JOB_RETRY_INTERVALS=[1])
    connection = redis.Redis.from_url(redis_url)
    [lead_id] = queued_leads(app, 1)
    job_id = f"validate-lead-{lead_id}"
    broken = process_env(broken_database(live_database_url), str(tmp_path / "b"), redis_url)
    assert run_worker_burst(broken, "validation").returncode == 0  # fails, retry scheduled
    sleep_until_the_retry_is_due(Job.fetch(job_id, connection=connection))
    assert run_worker_burst(broken, "validation").returncode == 0  # fails again: no retries left
    validation = Queue("validation", connection=connection)
    assert validation.failed_job_registry.get_job_ids() == [job_id]

    with app.app_context():
        admin_email = make_user("admin").email
    client = app.test_client()
    login(app, client, admin_email)
    page = request(app, client, "GET", "/admin/jobs")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "validation: 1 failed" in html
    assert job_id in html
    assert "exchange.leads.jobs.validate_lead_job" in html
    assert f"<td>{lead_id}</td>" in html
    assert "lx_no_such_database" in html  # the end of the traceback: the exception itself
    assert "postbacks: 0 failed" in html

    runner = app.test_cli_runner()
    other = runner.invoke(args=["jobs", "requeue-failed", "--queue", "postbacks"])
    assert other.exit_code == 0, other.output
    assert other.output.splitlines() == ["0 failed job(s) requeued"]
    assert validation.failed_job_registry.count == 1

    result = runner.invoke(args=["jobs", "requeue-failed"])  # every queue

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"requeued {job_id} on validation", "1 failed job(s) requeued"]
    assert validation.failed_job_registry.count == 0
    assert validation.job_ids == [job_id]
    healthy = process_env(live_database_url, str(tmp_path / "w"), redis_url)
    assert run_worker_burst(healthy, "validation").returncode == 0
    assert lead_status(app, lead_id) == "pending"
    assert "None." in request(app, client, "GET", "/admin/jobs").get_data(as_text=True)
