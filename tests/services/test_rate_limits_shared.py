"""With Redis, the limits' counts are shared by every process of the app (gunicorn's
workers, several machines): failures counted by one process lock the account in another.
Without Redis reachable, sign-in still answers (counted in memory meanwhile)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.api.test_rate_limits import start_far_from_a_minute_edge
from tests.http_harness import ROOT, process_env

# One process of the app, signing in with a wrong password `tries` times; prints the answers.
SIGN_INS = """
import json, sys
from wsgi import app
client = app.test_client()
answers = []
for _ in range(int(sys.argv[2])):
    response = client.post("/login", data={"email": sys.argv[1], "password": "wrong"})
    answers.append([response.status_code, response.headers.get("Retry-After")])
print(json.dumps(answers))
"""


def app_env(database_url: str, instance: str, counted_in: str) -> dict:
    """A process of the app counting in ``counted_in`` (testing mode: no CSRF token to fetch)."""
    env = process_env(database_url, instance)
    env.update(EXCHANGE_ENV="testing", RATELIMIT_STORAGE_URI=counted_in)
    return env


def sign_in_elsewhere(env: dict, email: str, tries: int) -> list[list]:
    done = subprocess.run(
        [sys.executable, "-c", SIGN_INS, email, str(tries)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_failures_in_one_process_lock_the_account_in_another(live_database_url, redis_url, tmp_path):
    env = app_env(live_database_url, str(tmp_path / "instance"), redis_url)
    env["LIMIT_SIGN_IN_PER_ACCOUNT"] = "3 per minute"
    start_far_from_a_minute_edge(needed=30)  # counted exactly only inside one window

    first = sign_in_elsewhere(env, "target@example.test", 3)
    second = sign_in_elsewhere(env, "target@example.test", 1)
    other_account = sign_in_elsewhere(env, "someone@example.test", 1)

    assert [status for status, _ in first] == [401, 401, 401]
    assert second[0][0] == 429 and 0 < int(second[0][1]) <= 60
    assert other_account[0][0] == 401


def test_sign_in_answers_when_the_limits_redis_is_down(live_database_url, tmp_path):
    env = app_env(live_database_url, str(tmp_path / "instance"), "redis://127.0.0.1:9/0")
    env["LIMIT_SIGN_IN_PER_ACCOUNT"] = "2 per minute"
    start_far_from_a_minute_edge(needed=20)

    answers = sign_in_elsewhere(env, "target@example.test", 3)

    assert [status for status, _ in answers] == [401, 401, 429]  # counted in memory meanwhile
