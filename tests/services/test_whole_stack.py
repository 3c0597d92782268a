"""The whole distributed stack started as the README says (``make up``: the Procfile, run
by honcho) on a fresh PostgreSQL database and Redis, in production mode: gunicorn answers,
and ``/readyz`` is ok, which needs the database migrated, Redis, a live scheduler and the
click buffer drained. SIGTERM stops every process (docs/operations.md, "Processes")."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKEND
from tests.http_harness import ROOT, flask_cli, process_env
from tests.services_config import own_postgres_database


@pytest.fixture(autouse=True)
def _on_services():
    assert BACKEND == "services", "PostgreSQL, Redis, rq and gunicorn (tests/services)"


def test_the_procfile_brings_the_whole_stack_up_ready_and_sigterm_stops_it(redis_url, tmp_path):
    port = free_port()
    with own_postgres_database("lx_whole_stack") as database_url:
        env = {
            **process_env(database_url, str(tmp_path / "instance"), redis_url),
            "EXCHANGE_ENV": "production",
            "SECRET_KEY": "p" * 40,
            "PORT": str(port),
            "WEB_WORKERS": "1",
            "WEB_THREADS": "2",
        }
        assert flask_cli(env, "db", "upgrade").returncode == 0
        log = (tmp_path / "honcho.log").open("w")
        stack = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            ready = _until_ready(port, stack, tmp_path / "honcho.log")
        finally:
            os.killpg(stack.pid, signal.SIGTERM)
            stopped = stack.wait(timeout=60)
            log.close()
        leftovers = _still_running(stack.pid)
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            migrated = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
        engine.dispose()

    assert ready == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "redis": "ok",
            "scheduler": "ok",
            "click_buffer": "ok",
        },
    }
    assert migrated == 1
    assert stopped is not None
    assert leftovers == [], f"processes left running after SIGTERM: {leftovers}"
    web_lines = _lines_of("web", tmp_path / "honcho.log")
    assert any(line["logger"] == "gunicorn.error" for line in web_lines)  # its own lines: JSON
    assert any(line["logger"] == "gunicorn.access" and "/readyz" in line["message"] for line in web_lines)


def _lines_of(process: str, log_path) -> list[dict]:
    """The lines honcho prefixed with ``process`` (``12:00:01 web.1 | …``), each one JSON
    (a line that is not fails the test)."""
    prefixed = [line.split(" | ", 1) for line in log_path.read_text().splitlines() if " | " in line]
    return [json.loads(text) for prefix, text in prefixed if prefix.split()[-1].startswith(f"{process}.")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until_ready(port: int, stack: subprocess.Popen, log_path, seconds: float = 90.0) -> dict:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        assert stack.poll() is None, f"the stack stopped:\n{log_path.read_text()[-4000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as failing:  # 503: not ready yet
            last = json.loads(failing.read())
        except OSError:  # not listening yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"never ready: {last}\n{log_path.read_text()[-4000:]}")


def _still_running(group: int) -> list[str]:
    """The processes of the stack's process group still alive (none, after a clean stop)."""
    time.sleep(1)
    alive = subprocess.run(["pgrep", "-g", str(group), "-a"], capture_output=True, text=True).stdout
    return [line for line in alive.splitlines() if line.strip()]
