"""A soak with faults on PostgreSQL and Redis: nothing answered is lost or doubled.

    python bench/soak.py [--seconds 180] [--chaos-every 10]

Brings the distributed stack up as docs/operations.md describes (gunicorn from
deploy/gunicorn.conf.py with 2 workers, rq workers, two flushers, the scheduler: bench/
_stack.py) on a throwaway database ``lx_soak`` beside EXCHANGE_TEST_DATABASE_URL and Redis
db 13. It measures what this client gets through in a few seconds (clicks, then leads, as
fast as it can), then for ``--seconds`` drives clicks and leads at half of that, with the
advertisers' decisions, admin top-ups and webmasters' payouts beside them, while a chaos
loop SIGKILLs, every ``--chaos-every`` seconds or so, one of: an rq worker, a flusher, a
gunicorn worker, the scheduler (and starts it again a second or three later; gunicorn
starts its own). A request that fails is retried with the same Idempotency-Key (leads,
payouts) or reference (top-ups), as a client should. Then it lets every queue drain,
stops the stack and counts, in the database, what was answered:

    soak: seconds=… kills=… clicks_answered=… clicks_stored=… leads_accepted=…
    leads_decided=… payouts=… lost=0 doubled=0 ledger=ok rss_growth_pct=…

``lost``: clicks answered 302 and not stored, leads answered 202 and not stored or never
decided, payouts answered 201 and not stored; ``doubled``: a click, lead, decision or
payout stored twice. ``ledger``: ``flask billing check``. ``rss_growth_pct``: the memory
of the processes that lived through the run (one rq worker is never killed), from the end
of the first fifth of the run to its end. Exits 1 on any loss, double, ledger failure or
growth over 20 %. Its log files are kept when it fails (the path is printed).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _soak_db as soak_db  # noqa: E402
from bench._stack import Stack  # noqa: E402
from bench.clicks import free_port, fresh_database  # noqa: E402
from exchange import create_app  # noqa: E402
from tests.http_harness import call  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/13"
MAX_GROWTH_PCT = 20
SERIAL = itertools.count()  # every click's sub1 and every lead's consumer, unique in the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--chaos-every", type=float, default=10.0)
    args = parser.parse_args()
    database_url = fresh_database("lx_soak")
    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {
        **os.environ,
        "EXCHANGE_ENV": "development",
        "EXCHANGE_INSTANCE_PATH": str(logs / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "FLASK_APP": "wsgi.py",
        "PROMETHEUS_MULTIPROC_DIR": str(logs / "metrics"),
        "METRICS_ENABLED": "1",
        # one client on 127.0.0.1 is every visitor and every webmaster here: not limited
        "RATELIMIT_ENABLED": "0",
    }
    (logs / "metrics").mkdir()
    os.environ.update(env)  # this process reads the database as the stack's processes do
    app = create_app()
    world = soak_db.prepare(app)
    port = free_port()
    stack = Stack(env, logs, port, REDIS_URL)
    stack.start_all()
    try:
        wait_until_answering(port)
        rates = {kind: measured / 2 for kind, measured in capacity(port, world).items()}
        load = Load(port, world, rates)
        chaos = Chaos(stack, args.chaos_every)
        load.start()
        chaos.start()
        time.sleep(args.seconds / 5)
        memory_before = stack.memory()
        time.sleep(args.seconds - args.seconds / 5)
        chaos.stop()
        load.stop()
        stack.start_all()  # whatever the chaos left down
        drained = drain(app)
        memory_after = stack.memory()
    finally:
        stack.stop_all()
    found = soak_db.count(app, load.clicks, load.leads, load.decided, load.payouts)
    ledger = subprocess.run([sys.executable, "-m", "flask", "billing", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
    growth = rss_growth_pct(memory_before, memory_after)
    kills = sum(process.kills for process in stack.processes)
    print(
        f"soak: seconds={args.seconds} kills={kills} clicks_answered={len(load.clicks)} "
        f"clicks_stored={found['clicks_stored']} leads_accepted={len(load.leads)} "
        f"leads_decided={found['leads_decided']} payouts={len(load.payouts)} lost={found['lost']} "
        f"doubled={found['doubled']} ledger={'ok' if ledger.returncode == 0 else 'failed'} "
        f"rss_growth_pct={growth:.1f}"
    )
    idle = not (
        load.clicks and load.leads and load.decided and kills
    )  # a soak that drove nothing proves nothing
    killed = Counter(process.kind for process in stack.processes for _ in range(process.kills))
    print("soak: killed " + " ".join(f"{kind}={killed[kind]}" for kind in Chaos.KINDS))
    failed = (
        found["lost"]
        or found["doubled"]
        or ledger.returncode
        or growth > MAX_GROWTH_PCT
        or not drained
        or idle
    )
    if failed:
        print(f"soak: FAILED ({found['details']}; drained={drained}; idle={idle}); logs in {logs}")
        print(ledger.stdout)
        raise SystemExit(1)
    shutil.rmtree(logs, ignore_errors=True)


class Client:
    """One request on a new connection each time (tests/http_harness.py's ``call``): a worker
    killed under it costs that request only. Answers (status, body), or (0, None) when the
    stack did not answer."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, key: str | None = None, body=None, headers=None):
        try:
            reply = call(self.port, method, path, key, body, headers)
        except (OSError, http.client.HTTPException, ValueError):
            return 0, None
        return reply.status, reply.body


def wait_until_answering(port: int) -> None:
    client = Client(port)
    for _ in range(600):
        if client.call("GET", "/healthz")[0] == 200:
            return
        time.sleep(0.1)
    raise SystemExit("gunicorn never answered")


def capacity(port: int, world: dict, seconds: float = 5.0) -> dict[str, float]:
    """What this client gets through, as fast as it can with 8 threads: clicks/s, leads/s."""
    load = Load(port, world, {"clicks": 0, "leads": 0})
    measured = {
        "clicks": _as_fast_as_possible(load.click, seconds),
        "leads": _as_fast_as_possible(load.submit_lead, seconds),
    }
    clicks, leads = measured["clicks"], measured["leads"]
    print(f"soak: capacity clicks_per_s={clicks:.0f} leads_per_s={leads:.0f}; half of it")
    return measured


def _as_fast_as_possible(step, seconds: float, threads: int = 8) -> float:
    """``step`` (1 when answered, else 0) from ``threads`` threads for ``seconds``: answers/s."""
    done, stop_at = [], time.monotonic() + seconds

    def hammer() -> None:
        while time.monotonic() < stop_at:
            done.append(step())

    running = [threading.Thread(target=hammer) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return sum(done) / seconds


class Load:
    """Clicks and leads at their rates, and beside them decisions, top-ups and payouts;
    what was answered is kept to be looked for in the database."""

    def __init__(self, port: int, world: dict, rates: dict[str, float]) -> None:
        self.client, self.world, self.rates = Client(port), world, rates
        self.lock = threading.Lock()
        self.clicks: set[str] = set()  # sub1 of every click answered 302
        self.leads: dict[str, int] = {}  # Idempotency-Key -> id, of every lead answered 202
        self.decided: dict[int, str] = {}  # lead id -> "approve" or "reject", answered 200
        self.topups: set[str] = set()  # references of the credits answered 201
        self.payouts: dict[str, int] = {}  # Idempotency-Key -> payout id, answered 201
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for target, count in ((self._clicks, 4), (self._leads, 4), (self._decide, 1), (self._top_up, 1),
                              (self._pay_out, 1)):  # fmt: skip
            self.threads += [threading.Thread(target=target, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _paced(self, rate_per_thread: float, step) -> None:
        interval = 1 / rate_per_thread if rate_per_thread else 1.0
        next_at = time.monotonic()
        while not self.stopping.is_set():
            step()
            next_at += interval
            self.stopping.wait(max(next_at - time.monotonic(), 0))

    def _clicks(self) -> None:
        self._paced(self.rates["clicks"] / 4, self.click)

    def _leads(self) -> None:
        self._paced(self.rates["leads"] / 4, self.submit_lead)

    def click(self) -> int:
        sub = f"s{next(SERIAL)}"
        token = random.choice(random.choice(self.world["webmasters"])["tokens"])
        status, _ = self.client.call("GET", f"/c/{token}?sub1={sub}")
        if status == 302:
            with self.lock:
                self.clicks.add(sub)
        return status == 302

    def submit_lead(self) -> int:
        n = next(SERIAL)
        webmaster = random.choice(self.world["webmasters"])
        body = {
            "offer_id": random.choice(self.world["offers"]),
            "fields": {"name": f"Soak {n}", "phone": f"+1 202 {200 + n // 10000 % 700} {n % 10000:04d}",
                       "email": f"soak{n}@example.com", "country": "US"},
        }  # fmt: skip
        key = f"soak-lead-{n}"
        answer = self._until_answered(
            "POST", "/api/v1/leads", webmaster["key"], body, {"Idempotency-Key": key}
        )
        if answer and answer[0] == 202:
            with self.lock:
                self.leads[key] = answer[1]["id"]
            return 1
        return 0

    def _until_answered(self, method: str, path: str, key: str, body=None, headers=None, tries: int = 20):
        """A request retried (same body, same key) while the stack does not answer it."""
        for _ in range(tries):
            status, data = self.client.call(method, path, key, body, headers)
            if status and status < 500:
                return status, data
            time.sleep(0.5)
        return None

    def _decide(self) -> None:
        """Each advertiser decides its pending leads: four in five approved."""
        keys = {advertiser["id"]: advertiser["key"] for advertiser in self.world["advertisers"]}
        while not self.stopping.wait(0.5):
            for key in keys.values():
                answer = self._until_answered("GET", "/api/v1/leads?status=pending&per_page=50", key)
                for lead in (answer[1] or {}).get("items", []) if answer and answer[0] == 200 else []:
                    action = "approve" if random.random() < 0.8 else "reject"
                    decided = self._until_answered("POST", f"/api/v1/leads/{lead['id']}/{action}", key, {})
                    if decided and decided[0] == 200:
                        with self.lock:
                            self.decided[lead["id"]] = action

    def _top_up(self) -> None:
        while not self.stopping.wait(5):
            for advertiser in self.world["advertisers"]:
                reference = f"soak-topup-{next(SERIAL)}"
                body = {"advertiser_id": advertiser["id"], "currency": "USD", "amount_minor": 50_000,
                        "reference": reference}  # fmt: skip
                answer = self._until_answered("POST", "/api/v1/admin/credits", self.world["admin"], body)
                if answer and answer[0] in (200, 201):
                    self.topups.add(reference)

    def _pay_out(self) -> None:
        while not self.stopping.wait(7):
            for webmaster in self.world["webmasters"]:
                answer = self._until_answered("GET", "/api/v1/balance", webmaster["key"])
                rows = (
                    [r for r in answer[1] if r["purpose"] == "available"]
                    if answer and answer[0] == 200
                    else []
                )
                available = rows[0]["available_minor"] if rows else 0
                if available < 2000:
                    continue
                key = f"soak-payout-{next(SERIAL)}"
                body = {"currency": "USD", "amount_minor": available // 2}
                paid = self._until_answered(
                    "POST", "/api/v1/payouts", webmaster["key"], body, {"Idempotency-Key": key}
                )
                if paid and paid[0] == 201:
                    with self.lock:
                        self.payouts[key] = paid[1]["id"]


class Chaos:
    """Every ``every`` seconds or so, SIGKILL one process, and start it again one to three
    seconds later (gunicorn starts its own workers). The kinds come in a shuffled round, so
    that each is hit once every four kills; the victim within its kind is random."""

    KINDS = ("worker", "flusher", "web", "scheduler")

    def __init__(self, stack: Stack, every: float) -> None:
        self.stack, self.every = stack, every
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def _loop(self) -> None:
        rounds = itertools.chain.from_iterable(
            random.sample(self.KINDS, len(self.KINDS)) for _ in itertools.count()
        )
        while not self.stopping.wait(self.every * random.uniform(0.5, 1.5)):
            kind = next(rounds)
            if kind == "web":
                self.stack.kill_a_web_worker()
                continue
            victim = random.choice([p for p in self.stack.processes if p.kind == kind and p.alive])
            self.stack.kill(victim)
            self.stopping.wait(random.uniform(1, 3))
            self.stack.start(victim)


def drain(app, seconds: float = 300) -> bool:
    """Until nothing waits (True: no click to flush, no job queued, no lead to validate), or
    ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if soak_db.waiting(app) == 0:
            return True
        time.sleep(2)
    return False


def rss_growth_pct(before: dict[int, int], after: dict[int, int]) -> float:
    """Growth of the memory of the processes alive at both readings (the same pids)."""
    lived = [pid for pid in before if pid in after]
    first, last = sum(before[pid] for pid in lived), sum(after[pid] for pid in lived)
    return 100 * (last - first) / first if first else 0.0


if __name__ == "__main__":
    main()
