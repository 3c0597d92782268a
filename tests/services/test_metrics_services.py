"""Metrics on Redis, rq and gunicorn (docs/operations.md, "Metrics"): each rq queue's depth,
oldest job and failed jobs, the click buffer's length and oldest click, the scheduler's
heartbeat, read at the scrape; and in multiprocess mode (PROMETHEUS_MULTIPROC_DIR) what
several processes counted, answered by any one of them, gunicorn's workers included."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job

from exchange.extensions import db
from exchange.health import SCHEDULERS_KEY
from exchange.tracking import buffer
from tests.api.test_metrics import grew, samples_of, scrape
from tests.conftest import BACKEND
from tests.factories import make_join, make_offer, make_user
from tests.http_harness import ROOT, process_env, run_worker_burst
from tests.services.test_whole_stack import free_port
from tests.services.workers import start_worker, stop, wait_until


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "Redis, rq and gunicorn (tests/services)"


def gauge(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_each_queues_depth_oldest_job_and_failed_jobs_are_read_at_the_scrape(
    live_app_factory, live_database_url, redis_url, tmp_path, frozen_clock
):
    app = live_app_factory(REDIS_URL=redis_url, METRICS_ENABLED=True)
    connection = redis.Redis.from_url(redis_url)
    tasks = Queue("tasks", connection=connection)
    for n in range(3):
        tasks.enqueue("tests.services.logging_job.log_a_line", job_id=f"waiting-{n}")
    failing = Queue("periodic", connection=connection).enqueue("tests.services.logging_job.fail")
    burst = run_worker_burst(process_env(live_database_url, str(tmp_path / "w"), redis_url), "periodic")
    assert burst.returncode == 0, burst.stderr
    assert failing.get_status(refresh=True) == "failed"
    enqueued = Job.fetch("waiting-0", connection=connection).enqueued_at  # the oldest, as rq keeps it
    frozen_clock.set(enqueued.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=42))

    with app.app_context():
        samples = scrape(app.test_client())

    assert gauge(samples, "exchange_queue_jobs", queue="tasks") == 3
    assert gauge(samples, "exchange_queue_oldest_job_age_seconds", queue="tasks") == 42
    assert gauge(samples, "exchange_queue_jobs", queue="validation") == 0
    assert gauge(samples, "exchange_queue_oldest_job_age_seconds", queue="validation") == 0
    assert gauge(samples, "exchange_queue_failed_jobs", queue="periodic") == 1
    assert gauge(samples, "exchange_queue_failed_jobs", queue="tasks") == 0


def test_the_click_buffers_length_and_oldest_click_then_the_flush_counts_them_stored(
    live_app_factory, redis_url, frozen_clock
):
    app = live_app_factory(REDIS_URL=redis_url, METRICS_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        token = make_join(webmaster, make_offer(advertiser)).token
        db.session.commit()
        before = scrape(client)
        assert client.get(f"/c/{token}?sub1=a").status_code == 302
        frozen_clock.advance(seconds=42)
        assert client.get(f"/c/{token}?sub1=b").status_code == 302
        waiting = scrape(client)
        written = buffer.drain(redis.Redis.from_url(redis_url))
        flushed = scrape(client)

    assert written == 2
    assert gauge(waiting, "exchange_click_buffer_length") == 2
    assert gauge(waiting, "exchange_click_buffer_oldest_age_seconds") == 42
    assert grew(before, waiting, "exchange_clicks_answered_total") == 2
    assert grew(before, waiting, "exchange_clicks_stored_total") == 0  # answered, not stored yet
    assert gauge(flushed, "exchange_click_buffer_length") == 0
    assert grew(waiting, flushed, "exchange_clicks_stored_total") == 2


def test_the_schedulers_heartbeat_age_is_shown_and_absent_when_none_ever_ran(
    live_app_factory, redis_url, frozen_clock
):
    app = live_app_factory(REDIS_URL=redis_url, METRICS_ENABLED=True)
    connection = redis.Redis.from_url(redis_url)
    now = frozen_clock.now.replace(tzinfo=UTC).timestamp()
    with app.app_context():
        none_ran = scrape(app.test_client())
        connection.zadd(SCHEDULERS_KEY, {"old": now - 500, "fresh": now - 42})
        beating = scrape(app.test_client())

    assert ("exchange_scheduler_heartbeat_age_seconds", frozenset()) not in none_ran
    assert gauge(beating, "exchange_scheduler_heartbeat_age_seconds") == 42  # the freshest one's


# One process of the app: GET /healthz ``n`` times (its numbers go to PROMETHEUS_MULTIPROC_DIR).
REQUESTS = """
import sys
from wsgi import app
client = app.test_client()
for _ in range(int(sys.argv[1])):
    assert client.get("/healthz").status_code == 200
"""


HEALTHZ = (
    "exchange_http_requests_total",
    frozenset({"endpoint": "health.healthz", "method": "GET", "status": "200"}.items()),
)


def counting_together(database_url: str, tmp_path) -> tuple[dict, object]:
    """The environment of processes of the app that count in one directory (multiprocess
    mode), and that directory."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        **process_env(database_url, str(tmp_path / "instance")),
        "METRICS_ENABLED": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    return env, directory


def test_what_several_processes_counted_is_answered_by_any_of_them(live_database_url, tmp_path):
    env, directory = counting_together(live_database_url, tmp_path)
    for count in (7, 5):
        ran = subprocess.run([sys.executable, "-c", REQUESTS, str(count)], cwd=ROOT, env=env, timeout=120)
        assert ran.returncode == 0
    port = free_port()
    web = start_gunicorn(env, port)
    try:
        samples = [scrape_over_http(port) for _ in range(3)]
    finally:
        web.terminate()
        web.wait(timeout=30)

    assert [scraped[HEALTHZ] for scraped in samples] == [12, 12, 12]


def test_gunicorns_workers_count_into_one_answer(live_database_url, tmp_path):
    env, directory = counting_together(live_database_url, tmp_path)
    port = free_port()
    web = start_gunicorn(env, port)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: get(port, "/healthz")[0], range(60)))
        samples = [scrape_over_http(port) for _ in range(4)]
    finally:
        web.terminate()
        web.wait(timeout=30)

    assert statuses == [200] * 60
    counted_by = {path.stem.split("_")[-1] for path in directory.glob("counter_*.db")}
    assert len(counted_by) == 2  # both workers answered some (8 at once, 2 threads each)
    assert [scraped[HEALTHZ] for scraped in samples] == [60] * 4  # whichever worker answered


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    web = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "WEB_WORKERS": "2", "WEB_THREADS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: _answers(port), "gunicorn answers", seconds=60)
    return web


def _answers(port: int) -> bool:
    """Asked of /metrics, so that the requests the tests count are theirs alone."""
    try:
        return get(port, "/metrics")[0] == 200
    except OSError:
        return False


def get(port: int, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.status, answer.read().decode()


def scrape_over_http(port: int) -> dict:
    status, body = get(port, "/metrics")
    assert status == 200
    return samples_of(body)


def test_a_worker_with_a_metrics_port_answers_scrapes_of_its_jobs(live_database_url, redis_url, tmp_path):
    """A worker on a machine where no web process runs (METRICS_PORT)."""
    port = free_port()
    env = {**process_env(live_database_url, str(tmp_path / "w"), redis_url), "METRICS_PORT": str(port)}
    job = Queue("periodic", connection=redis.Redis.from_url(redis_url)).enqueue(
        "exchange.leads.jobs.sweep_leads_job", job_id="sweep-leads-once"
    )
    started = time.time()
    worker = start_worker(env, "periodic")
    try:
        wait_until(lambda: job.get_status(refresh=True) == "finished", "the sweep ran")
        samples = scrape_over_http(port)
    finally:
        stop(worker)

    finished = (
        "exchange_job_duration_seconds_count",
        frozenset({"job": "sweep_leads_job", "outcome": "finished"}.items()),
    )
    assert samples[finished] == 1
    last = samples[("exchange_job_last_finished_timestamp_seconds", frozenset({("job", "sweep_leads_job")}))]
    assert started < last <= time.time()  # the run this test asked for
