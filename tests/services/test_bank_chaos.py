"""A bank-style test on PostgreSQL (issue 5): worker processes move money at random
through the real services while a chaos loop SIGKILLs and restarts them.

Four worker processes (bank_worker.py, forked by bank_zygote.py) top up advertisers,
submit and validate leads (reserving their price), approve, reject and return them,
release holds, sweep, request payouts and settle them paid or failed, in two currencies,
each operation in its own transaction. Offers hold payouts for 2 s (returns allowed for
2 s), so holds really expire during the run. Every 0.3 to 1 s the test kills a worker
with SIGKILL and starts it again; the worker redoes the operation it had not finished,
as a client retries a request it got no answer to. Meanwhile a reader checks the whole
ledger in one snapshot at a time (bank_reader.py). Afterwards: every read was
consistent, ``run_checks`` and the real ``flask billing check`` pass, and no retried
operation doubled its effect.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from billing.check import run_checks
from billing.models import Transfer
from billing.payouts.models import Payout
from billing.services import credit_advertiser
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.models import Lead, LeadEvent
from tests.conftest import BACKEND
from tests.factories import make_join, make_offer, make_user
from tests.http_harness import ROOT, flask_cli, process_env
from tests.integration.helpers import submit
from tests.services.bank_reader import Reader
from tests.services.bank_worker import journal_path, lead_fields, lead_number, read_journal

WORKERS = 4
CHAOS_SECONDS = 20
MAX_CHAOS_SECONDS = 35
CURRENCIES = ("USD", "EUR")
PRICES = {"USD": (1500, 1000), "EUR": (1200, 900)}  # rate, payout: a margin on every lead
HOLD_SECONDS = RETURN_WINDOW_SECONDS = 2
SETUP_LEADS = 24
# Each of these must have happened, or the run proved nothing about it.
TRANSFERS_EXPECTED = {
    "top-ups": "topup:bank-w%",
    "reservations": "lead:%:reserve:payout",
    "approvals": "lead:%:approve:payout",
    "rejections": "lead:%:void:payout",
    "returns": "lead:%:return:payout",
    "hold releases": "lead:%:hold-release",
    "payouts paid": "payout:%:paid",
    "payouts failed": "payout:%:failed",
}


class Zygote:
    """The process that forks the workers (bank_zygote.py), one command at a time."""

    def __init__(self, plan_path: Path, env: dict, log_path: Path) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.services.bank_zygote", str(plan_path)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_path.open("w"),
            text=True,
            start_new_session=True,  # it and every worker it forks: one process group
        )

    def ask(self, *words: object) -> str:
        self.process.stdin.write(" ".join(map(str, words)) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote died: {self.log_path.read_text()}"
        return answer.strip()

    def kill_all(self) -> None:
        """SIGKILL to the zygote and every worker left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def open_bank(app, database_url: str, journal_dir: Path) -> dict:
    """Two advertisers with an offer in each currency (one reviewed within an hour, one
    approved by the sweep after 2 s), a webmaster per worker joined to every offer, a
    little money, and leads received but not yet validated. Returns the workers' plan;
    the second advertiser never reviews its odd-numbered leads, so that the sweep's
    approvals happen however fast the workers decide the rest."""
    with app.app_context():
        advertisers = [make_user("advertiser") for _ in range(2)]
        webmasters = [make_user("webmaster") for _ in range(WORKERS)]
        offers = []
        for n, advertiser in enumerate(advertisers):
            for currency in CURRENCIES:
                rate, payout = PRICES[currency]
                offer = make_offer(
                    advertiser,
                    currency=currency,
                    rate_minor=rate,
                    payout_minor=payout,
                    hold_seconds=HOLD_SECONDS,
                    return_window_seconds=RETURN_WINDOW_SECONDS,
                    review_window_seconds=3600 if n == 0 else 2,
                    low_balance_minor=0,  # never paused for funds: leads wait for them instead
                )
                for webmaster in webmasters:
                    make_join(webmaster, offer)
                credit_advertiser(advertiser.id, currency, 2 * rate, f"bank-setup-{advertiser.id}-{currency}")
                commit()
                offers.append((offer, webmasters[len(offers) % WORKERS]))
        for n in range(SETUP_LEADS):
            offer, webmaster = offers[n % len(offers)]
            submit(webmaster, offer, lead_fields(lead_number(WORKERS, n)))
        return {
            "database_url": database_url,
            "journal_dir": str(journal_dir),
            "workers": WORKERS,
            "currencies": list(CURRENCIES),
            "advertisers": [user.id for user in advertisers],
            "silent_advertiser_id": advertisers[1].id,
            "webmasters": [user.id for user in webmasters],
            "offers": [{"id": offer.id, "currency": offer.currency} for offer, _ in offers],
            "return_window_seconds": RETURN_WINDOW_SECONDS,
        }


def run_chaos(zygote: Zygote, journal_dir: Path, enough: Callable[[], bool]) -> list[str]:
    """Kill a random worker every 0.3 to 1 s and start it again, for CHAOS_SECONDS and
    then, on a loaded machine, until ``enough`` work was done (MAX_CHAOS_SECONDS at most).
    Returns how each killed worker died."""
    rng = random.Random()
    pids = {worker: int(zygote.ask("spawn", worker)) for worker in range(WORKERS)}
    deaths = []
    started = time.monotonic()
    while time.monotonic() - started < CHAOS_SECONDS or (
        time.monotonic() - started < MAX_CHAOS_SECONDS and not enough()
    ):
        time.sleep(rng.uniform(0.3, 1.0))
        worker = rng.randrange(WORKERS)
        os.kill(pids[worker], signal.SIGKILL)
        new_pid, death = zygote.ask("respawn", worker, pids[worker]).split()
        pids[worker] = int(new_pid)
        deaths.append(death)
    for pid in pids.values():  # the last kill, then each worker finishes what it left open
        os.kill(pid, signal.SIGKILL)
    recovering = {worker: zygote.ask("recover", worker, pid) for worker, pid in pids.items()}
    for worker, pid in recovering.items():
        log = journal_dir / f"worker-{worker}.log"
        assert zygote.ask("wait", pid) == "exit-0", log.read_text()
    return deaths


def journals(journal_dir: Path) -> tuple[dict, dict, list]:
    """Every worker's intents and outcomes, by (worker, seq), and its redo records."""
    intents, outcomes, redos = {}, {}, []
    for worker in range(WORKERS):
        for record in read_journal(journal_path(str(journal_dir), worker)):
            key = (worker, record["seq"])
            if record["t"] == "intent":
                intents[key] = record
            elif record["t"] == "done":
                assert key not in outcomes, f"two outcomes for {key}"
                outcomes[key] = record
            elif record["t"] == "redo":
                redos.append(key)
    return intents, outcomes, redos


def dsn_of(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.timeout(180)
def test_money_is_conserved_while_workers_are_killed_and_restarted(live_app, live_database_url, tmp_path):
    assert BACKEND == "services", "the bank test runs on PostgreSQL (tests/services)"
    phases = [("start", time.monotonic())]
    journal_dir = tmp_path / "journals"
    journal_dir.mkdir()
    plan = open_bank(live_app, live_database_url, journal_dir)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    env = process_env(live_database_url, str(tmp_path / "instance"))

    phases.append(("setup", time.monotonic()))
    reader = Reader(dsn_of(live_database_url), pause_seconds=0.1)
    zygote = Zygote(plan_path, env, tmp_path / "zygote.log")
    reader.start()
    try:
        deaths = run_chaos(zygote, journal_dir, lambda: enough_done(live_app, journal_dir))
    finally:
        zygote.kill_all()
        reader.stop()

    phases.append(("chaos", time.monotonic()))
    assert reader.failure is None, repr(reader.failure)
    assert len(reader.reads) >= 50, len(reader.reads)
    assert reader.inconsistent() == []
    assert deaths and set(deaths) == {f"signal-{int(signal.SIGKILL)}"}, Counter(deaths)  # none died by itself
    intents, outcomes, redos = journals(journal_dir)
    assert_every_intent_done_once_without_error(intents, outcomes)
    assert len(deaths) >= 15 and len(redos) >= 5, (len(deaths), len(redos))
    redone_after_commit = [key for key in redos if outcomes[key]["found_done"]]
    assert redone_after_commit, "no kill fell between a commit and its answer: no retry was tested"

    with live_app.app_context():
        problems = run_checks()
        assert not any(problems.values()), problems
        assert_retries_doubled_nothing(intents, outcomes)
        statuses = dict(db.session.execute(select(Lead.status, func.count()).group_by(Lead.status)).all())
    work = work_done(live_app)
    assert all(work.values()), work  # or the run proved nothing about the kind of work missing
    phases.append(("checks", time.monotonic()))
    check = flask_cli(env, "billing", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "FAIL" not in check.stdout
    phases.append(("cli", time.monotonic()))
    print("\n" + ", ".join(f"{name} {end - start:.1f}s" for (_, start), (name, end) in pairwise(phases)))

    summary = Counter((record["op"], record["outcome"]) for record in outcomes.values())
    print(f"\nwork done: {work}; leads now: {statuses}")
    print(f"{len(deaths)} kills, {len(redos)} redone ({len(redone_after_commit)} after their commit),")
    print(f"{len(reader.reads)} consistent reads; outcomes: {dict(sorted(summary.items()))}")


def assert_every_intent_done_once_without_error(intents: dict, outcomes: dict) -> None:
    assert intents.keys() == outcomes.keys(), sorted(intents.keys() ^ outcomes.keys())
    errors = {key: record["result"] for key, record in outcomes.items() if record["outcome"] == "error"}
    assert not errors, "\n".join(f"{key}: {trace}" for key, trace in errors.items())


def assert_retries_doubled_nothing(intents: dict, outcomes: dict) -> None:
    """Each credit reference, lead idempotency key and payout request took effect once."""

    def done(op: str) -> list[tuple[dict, dict]]:
        return [(intents[key], outcomes[key]) for key in intents if intents[key]["op"] == op]

    credits = done("credit")
    assert {outcome["outcome"] for _, outcome in credits} == {"ok"}
    expected = {f"topup:{intent['reference']}": intent["amount_minor"] for intent, _ in credits}
    recorded = db.session.execute(
        select(Transfer.id, Transfer.amount_minor).where(Transfer.id.like("topup:bank-w%"))
    ).all()
    assert dict(recorded) == expected and len(recorded) == len(expected)

    submitted = {intent["idempotency_key"]: outcome["result"] for intent, outcome in done("submit")}
    leads = db.session.execute(
        select(Lead.idempotency_key, Lead.id).where(Lead.idempotency_key.like("bank-w%"))
    )
    assert dict(leads.all()) == submitted

    requested = [outcome["result"] for _, outcome in done("payout") if outcome["outcome"] == "ok"]
    assert len(requested) == len(set(requested))
    assert sorted(db.session.scalars(select(Payout.id))) == sorted(requested)
    for payout in db.session.scalars(select(Payout)):
        resolutions = db.session.scalars(
            select(Transfer.id).where(Transfer.pending_id == f"payout:{payout.id}")
        )
        expected_ids = [] if payout.status == "requested" else [f"payout:{payout.id}:{payout.status}"]
        assert list(resolutions) == expected_ids, payout.status

    left_twice = db.session.execute(
        select(LeadEvent.lead_id, LeadEvent.from_status, func.count())
        .group_by(LeadEvent.lead_id, LeadEvent.from_status)
        .having(func.count() > 1)
    ).all()
    assert left_twice == []  # no lead left any state twice: every transition happened once


def enough_done(app, journal_dir: Path) -> bool:
    """Every kind of work happened, and some operation was redone after its commit."""
    _, outcomes, redos = journals(journal_dir)
    return all(work_done(app).values()) and any(outcomes.get(key, {}).get("found_done") for key in redos)


def work_done(app) -> dict[str, int]:
    """How many times each kind of work has happened so far."""
    with app.app_context():
        counts = {
            name: db.session.scalar(
                select(func.count()).select_from(Transfer).where(Transfer.id.like(pattern))
            )
            for name, pattern in TRANSFERS_EXPECTED.items()
        }
        for action in ("fund", "auto_approve"):
            counts[action] = db.session.scalar(
                select(func.count()).select_from(LeadEvent).where(LeadEvent.action == action)
            )
        db.session.remove()
    return counts
