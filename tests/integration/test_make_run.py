"""`make run`'s last steps as a newcomer meets them: the host and port it serves on are
chosen with HOST and PORT, and the logins it prints are every demo user's. The demo server
runs as a real process on SQLite in a folder of the test's own, whatever the backend."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

from tests.http_harness import ROOT, flask_cli, process_env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _make_dry_run(*variables: str) -> str:
    """The commands ``make run`` would run (``-n``: nothing is run)."""
    done = subprocess.run(
        ["make", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_make_run_serves_on_the_host_and_port_it_is_given():
    assert 'flask demo serve --host "0.0.0.0" --port "8123"' in _make_dry_run("PORT=8123", "HOST=0.0.0.0")


def test_make_run_serves_on_127_0_0_1_port_5000_by_default():
    assert 'flask demo serve --host "127.0.0.1" --port "5000"' in _make_dry_run()


def _printed_until_served(server: subprocess.Popen, port: int, seconds: float = 60.0) -> str:
    """What the server printed before it answered at ``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
                assert answer.status == 200
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise AssertionError("the demo server did not answer")
    server.terminate()
    printed, _ = server.communicate(timeout=30)
    return printed


def test_the_demo_server_prints_its_url_and_every_demo_login(tmp_path):
    env = process_env(f"sqlite:///{tmp_path / 'demo.db'}", str(tmp_path / "instance"))
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = flask_cli(env, *step)
        assert done.returncode == 0, done.stderr
    port = _free_port()

    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "demo", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        printed = _printed_until_served(server, port)
    finally:
        server.kill()

    assert f"running at http://127.0.0.1:{port}/" in printed
    logins = printed.split("Demo logins", 1)[1].split("Demo API keys", 1)[0]
    with sqlite3.connect(tmp_path / "demo.db") as database:
        users = {email for (email,) in database.execute("SELECT email FROM users")}
    assert set(re.findall(r"\S+@demo\.test", logins)) == users
    assert "newcomer@demo.test" in users
