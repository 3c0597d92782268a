"""Real rq worker processes for the reliability tests, and leads queued for them.

A worker runs in its own session (process group), so that SIGKILL takes it
and everything it started (rq's scheduler) at once, as a lost machine would.
A lead's row lock, or an advertiser's account row lock, held by the test, stops a
worker inside a chosen job: a real way to catch it mid-batch, with no switch in the
application.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import func, select, text

from billing.check import run_checks
from billing.domain import advertiser_available
from billing.models import Transfer
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead, LeadEvent
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.http_harness import ROOT

RATE, PAYOUT = 1500, 1000  # a margin, so each accepted lead reserves two legs


def start_worker(env: dict, *queues: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "exchange.worker", *queues],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_hard(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def stop(worker: subprocess.Popen) -> str:
    """A warm shutdown (SIGTERM: finish the current job, then exit); its stderr."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        _, stderr = worker.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        _, stderr = worker.communicate(timeout=30)
    return stderr


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def queued_leads(app, count: int) -> list[int]:
    """``count`` leads submitted and committed on an app with REDIS_URL: their
    validation jobs (validate-lead-<id>) are on the ``validation`` queue."""
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        fund(advertiser, (count + 1) * RATE)
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=PAYOUT)
        make_join(webmaster, offer)
        actor = Actor(kind="user", user_id=webmaster.id)
        ids = []
        for n in range(count):
            payload = {"offer_id": offer.id, "fields": lead_fields(20_000 + n)}
            ids.append(submit_lead(webmaster.id, payload, actor).lead.id)
            commit()
        return ids


@contextmanager
def row_locked(app, lead_id: int):
    """Hold the lead's row lock (as a validating worker would) until the block ends."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        try:
            connection.execute(text("SELECT id FROM leads WHERE id = :id FOR UPDATE"), {"id": lead_id})
            yield
        finally:
            transaction.rollback()
            connection.close()


@contextmanager
def money_locked(app, lead_id: int):
    """Hold the row lock of the lead's advertiser's account until the block ends: a
    validation batch with that lead judges its leads (holding their rows), then waits
    to reserve their prices. A real way to stop a worker in the middle of a batch."""
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        code = advertiser_available(lead.advertiser_id, "USD").code
        db.session.remove()
        connection = db.engine.connect()
        transaction = connection.begin()
        try:
            connection.execute(text("SELECT id FROM accounts WHERE code = :code FOR UPDATE"), {"code": code})
            yield
        finally:
            transaction.rollback()
            connection.close()


def held_elsewhere(app, lead_ids: list[int]) -> int:
    """How many of the leads another transaction holds locked (a batch in flight)."""
    with app.app_context():
        free = db.session.scalars(
            select(Lead.id).where(Lead.id.in_(lead_ids)).with_for_update(skip_locked=True)
        ).all()
        db.session.rollback()
        db.session.remove()
        return len(lead_ids) - len(free)


def decided_count(app, lead_ids: list[int]) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Lead).where(Lead.id.in_(lead_ids), Lead.status != "received")
        )
        db.session.remove()
        return count


def assert_each_validated_exactly_once(app, lead_ids: list[int]) -> None:
    """One decision (one event leaving ``received``) per lead; two reserve legs per
    accepted lead, none for a rejected one; the ledger's invariants hold."""
    with app.app_context():
        statuses = dict(db.session.execute(select(Lead.id, Lead.status).where(Lead.id.in_(lead_ids))).all())
        assert "received" not in statuses.values(), statuses
        decisions = dict(
            db.session.execute(
                select(LeadEvent.lead_id, func.count())
                .where(LeadEvent.lead_id.in_(lead_ids), LeadEvent.from_status == "received")
                .group_by(LeadEvent.lead_id)
            ).all()
        )
        assert decisions == {lead_id: 1 for lead_id in lead_ids}, decisions
        for lead_id, status in statuses.items():
            legs = db.session.scalar(
                select(func.count())
                .select_from(Transfer)
                .where(Transfer.id.like(f"lead:{lead_id}:reserve:%"))
            )
            assert legs == (2 if status in ("pending", "approved") else 0), (lead_id, status, legs)
        problems = run_checks()
        assert not any(problems.values()), problems
