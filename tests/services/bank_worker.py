"""The bank test's workers (test_bank_chaos.py; started by bank_zygote.py).

Each worker loops over random money operations, each through the service the API or a
job calls, in its own transaction: top-ups, lead submissions (validated in-process after
the commit, which reserves their price or leaves them waiting for funds), validations,
approvals, rejections, returns, hold releases, the sweep, payout requests and settlements.

Each worker keeps a journal (JSON lines, one file per worker). It writes an operation's
*intent*, with everything needed to do it again, before the operation starts, and its
*outcome* after the commit. A worker started again first redoes its last intent without
an outcome, as a client that got no answer retries its request: the same credit
reference, the same idempotency key, the same lead, the same payout. When the first
attempt had committed, doing it again must change nothing. Workers sometimes pause
inside the transaction (holding its locks) and after the commit (before the outcome is
written), so that kills land in both places.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, or_, select

from billing.models import Account, Transfer
from billing.payouts.models import Payout
from billing.payouts.services import payout_minimum, request_payout, settle_payout
from billing.services import credit_advertiser
from exchange import clock
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import Conflict, Invalid
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead, release_hold, return_lead
from exchange.leads.domain import APPROVED, PENDING, RECEIVED
from exchange.leads.funding import enqueue_funding
from exchange.leads.intake import submit_lead
from exchange.leads.jobs import validate_lead_job
from exchange.leads.models import Lead
from exchange.leads.schemas import LeadSubmitSchema
from exchange.periodic import sweep

WEIGHTS = {
    "credit": 3,
    "submit": 5,
    "validate": 3,
    "approve": 4,
    "reject": 2,
    "return": 2,
    "release": 3,
    "sweep": 2,
    "payout": 3,
    "settle": 3,
}
AREA_CODES = ("202", "212", "213", "305", "312", "415", "617", "646", "702", "718", "503", "404")
LEADS_PER_AREA = 10_000


def lead_number(worker: int, seq: int) -> int:
    """A number unique to (worker, seq) across the run; the setup uses worker = WORKERS."""
    return worker * 2 * LEADS_PER_AREA + seq


def lead_fields(number: int) -> dict:
    """Contact fields unique to ``number``: no lead is a duplicate of another."""
    area = AREA_CODES[number // LEADS_PER_AREA]
    return {
        "name": f"Saver {number}",
        "phone": f"+1 {area} 555 {number % LEADS_PER_AREA:04d}",
        "email": f"saver{number}@example.com",
        "country": "US",
    }


def journal_path(journal_dir: str, worker: int) -> Path:
    return Path(journal_dir) / f"worker-{worker}.jsonl"


def read_journal(path: Path) -> list[dict]:
    """The journal's records; a line torn by a kill in the middle of its write is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class Worker:
    """One worker process's loop. Its operation numbers (``seq``) go on across restarts:
    an intent's references and idempotency keys are derived from its number."""

    def __init__(self, plan: dict, index: int) -> None:
        self.plan = plan
        self.index = index
        self.rng = random.Random(os.urandom(16))
        self.path = journal_path(plan["journal_dir"], index)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.seq = 0
        self.webmasters = [w for n, w in enumerate(plan["webmasters"]) if n % plan["workers"] == index]

    def write(self, record: dict) -> None:
        record = {**record, "at": round(time.time(), 3)}
        os.write(self.fd, (json.dumps(record, default=str) + "\n").encode())

    # the loop

    def recover(self) -> None:
        """Redo the intent whose outcome was never written (the worker died meanwhile)."""
        self.write({"t": "start", "seq": 0})
        records = read_journal(self.path)
        intents = {r["seq"]: r for r in records if r["t"] == "intent"}
        done = {r["seq"] for r in records if r["t"] == "done"}
        self.seq = max(intents, default=0)
        for seq in sorted(intents.keys() - done):
            self.write({"t": "redo", "seq": seq})
            self.perform(intents[seq], redo=True)

    def step(self) -> None:
        intent = self.choose()
        if intent is None:
            time.sleep(0.01)
            return
        self.seq += 1
        intent.update(t="intent", seq=self.seq)
        self.write(intent)
        self.perform(intent, redo=False)

    def perform(self, intent: dict, *, redo: bool) -> None:
        found_done = self.committed_before(intent) if redo else None
        retries, started = 0, time.monotonic()
        while True:
            try:
                result, outcome = getattr(self, f"do_{intent['op']}")(intent), "ok"
            except Conflict as error:
                rollback()
                if error.code == "lead_changed" and retries < 5:
                    retries += 1
                    continue
                result, outcome = error.code, "conflict"
            except Invalid as error:
                rollback()
                result, outcome = error.code, "refused"
            except Exception:  # a deadlock too: accounts are locked in one order, so none may happen
                rollback()
                result, outcome = traceback.format_exc(), "error"
            break
        if self.rng.random() < 0.4:  # a slow client: the work is committed, its answer not yet written
            time.sleep(self.rng.uniform(0, 0.2))
        self.write(
            {
                "t": "done",
                "seq": intent["seq"],
                "op": intent["op"],
                "outcome": outcome,
                "result": result,
                "redo": redo,
                "found_done": found_done,
                "retries": retries,
                "seconds": round(time.monotonic() - started, 3),
            }
        )

    def commit_slowly(self) -> None:
        """Commit, sometimes after holding the transaction's locks a little while."""
        if self.rng.random() < 0.3:
            time.sleep(self.rng.uniform(0, 0.05))
        commit()

    # choosing an operation (reads only; the transaction ends before the intent is written)

    def choose(self) -> dict | None:
        ops = list(WEIGHTS)
        op = self.rng.choices(ops, weights=[WEIGHTS[name] for name in ops])[0]
        try:
            intent = getattr(self, f"choose_{op}")()
        finally:
            rollback()
        return None if intent is None else {"op": op, **intent}

    def choose_credit(self) -> dict:
        currency = self.rng.choice(self.plan["currencies"])
        return {
            "advertiser_id": self.rng.choice(self.plan["advertisers"]),
            "currency": currency,
            "amount_minor": self.rng.randrange(500, 3000),
            "reference": f"bank-w{self.index}-{self.seq + 1}",
        }

    def choose_submit(self) -> dict:
        offer = self.rng.choice(self.plan["offers"])
        return {
            "webmaster_id": self.rng.choice(self.plan["webmasters"]),
            "offer_id": offer["id"],
            "fields": lead_fields(lead_number(self.index, self.seq + 1)),
            "idempotency_key": f"bank-w{self.index}-{self.seq + 1}",
        }

    def choose_validate(self) -> dict | None:
        return self.some_lead(Lead.status == RECEIVED)

    def choose_approve(self) -> dict | None:
        """A lead still in its review window: past it, the advertiser's silence is left to the sweep."""
        return self.some_lead(*self.reviewable())

    def choose_reject(self) -> dict | None:
        return self.some_lead(*self.reviewable())

    def reviewable(self) -> tuple:
        """Pending leads in their review window, but for the silent advertiser's odd-numbered
        ones: those are always left to the sweep, so that it approves some on a fast run too."""
        silent = self.plan["silent_advertiser_id"]
        return (
            Lead.status == PENDING,
            Lead.review_deadline > clock.now(),
            or_(Lead.advertiser_id != silent, Lead.id % 2 == 0),
        )

    def choose_return(self) -> dict | None:
        recent = clock.now() - timedelta(seconds=self.plan["return_window_seconds"] - 0.3)
        return self.some_lead(
            Lead.status == APPROVED, Lead.hold_released_at.is_(None), Lead.approved_at > recent
        )

    def choose_release(self) -> dict | None:
        return self.some_lead(
            Lead.status == APPROVED, Lead.hold_released_at.is_(None), Lead.hold_until <= clock.now()
        )

    def choose_sweep(self) -> dict:
        return {}

    def choose_payout(self) -> dict | None:
        """A payout of one of this worker's own webmasters (no other worker asks for theirs),
        from an account whose available balance covers the minimum."""
        codes = [f"webmaster:{w}:available:{c}" for w in self.webmasters for c in self.plan["currencies"]]
        accounts = [
            account
            for account in db.session.scalars(select(Account).where(Account.code.in_(codes)))
            if account.balance.available >= payout_minimum(account.currency)
        ]
        if not accounts:
            return None
        account = self.rng.choice(accounts)
        return {
            "webmaster_id": account.owner_id,
            "currency": account.currency,
            "amount_minor": self.rng.randrange(
                payout_minimum(account.currency), account.balance.available + 1
            ),
            "idempotency_key": f"bank-w{self.index}-{self.seq + 1}",
        }

    def choose_settle(self) -> dict | None:
        """A requested payout, to be paid or failed: whichever outcome is rarer so far."""
        payout_id = db.session.scalar(
            select(Payout.id).where(Payout.status == "requested").order_by(func.random()).limit(1)
        )
        if payout_id is None:
            return None
        settled = dict(
            db.session.execute(
                select(Payout.status, func.count())
                .where(Payout.status != "requested")
                .group_by(Payout.status)
            ).all()
        )
        paid, failed = settled.get("paid", 0), settled.get("failed", 0)
        return {"payout_id": payout_id, "paid": self.rng.random() < 0.5 if paid == failed else paid < failed}

    def some_lead(self, *where) -> dict | None:
        row = db.session.execute(
            select(Lead.id, Lead.advertiser_id).where(*where).order_by(func.random()).limit(1)
        ).first()
        return None if row is None else {"lead_id": row.id, "advertiser_id": row.advertiser_id}

    # doing it (again): the same services the API and the jobs call

    def do_credit(self, intent: dict) -> str:
        advertiser_id, currency = intent["advertiser_id"], intent["currency"]
        transfer = credit_advertiser(advertiser_id, currency, intent["amount_minor"], intent["reference"])
        transfer_id = transfer.id
        enqueue_funding(advertiser_id, currency)  # as the admin credit endpoint does
        self.commit_slowly()
        return transfer_id

    def do_submit(self, intent: dict) -> int:
        payload = LeadSubmitSchema().load(
            {"offer_id": intent["offer_id"], "fields": intent["fields"], "user_agent": "Mozilla/5.0 (bank)"}
        )
        actor = Actor(kind="user", user_id=intent["webmaster_id"], label="bank worker")
        submission = submit_lead(
            intent["webmaster_id"], payload, actor, idempotency_key=intent["idempotency_key"]
        )
        lead_id = submission.lead.id
        self.commit_slowly()  # then its validation runs here, in-process
        return lead_id

    def do_validate(self, intent: dict) -> str:
        return validate_lead_job(intent["lead_id"])  # the job commits

    def do_approve(self, intent: dict) -> str:
        return self.decide(approve_lead, intent)

    def do_reject(self, intent: dict) -> str:
        return self.decide(reject_lead, intent)

    def do_return(self, intent: dict) -> str:
        return self.decide(return_lead, intent)

    def decide(self, decision, intent: dict) -> str:
        actor = Actor(kind="user", user_id=intent["advertiser_id"], label="bank worker")
        status = decision(intent["lead_id"], actor).status
        self.commit_slowly()
        return status

    def do_release(self, intent: dict) -> bool:
        released = release_hold(intent["lead_id"])
        self.commit_slowly()
        return released

    def do_sweep(self, intent: dict) -> str:
        return str(sweep())  # one transaction per lead, committed as it goes

    def do_payout(self, intent: dict) -> int:
        payout = request_payout(
            intent["webmaster_id"],
            intent["currency"],
            intent["amount_minor"],
            idempotency_key=intent["idempotency_key"],
        )
        payout_id = payout.id
        self.commit_slowly()
        return payout_id

    def do_settle(self, intent: dict) -> str:
        payout = settle_payout(intent["payout_id"], paid=intent["paid"], settled_by_id=None, note="bank")
        status = payout.status
        self.commit_slowly()
        return status

    def committed_before(self, intent: dict) -> bool | None:
        """Whether the first attempt of a redone intent had committed (for the test's
        statistics: a redo after the commit is the retry that must change nothing)."""
        try:
            if intent["op"] == "credit":
                found = db.session.get(Transfer, f"topup:{intent['reference']}") is not None
            elif intent["op"] == "submit":
                key = intent["idempotency_key"]
                found = db.session.scalar(select(Lead.id).where(Lead.idempotency_key == key)) is not None
            elif intent["op"] == "payout":
                key = intent["idempotency_key"]
                found = db.session.scalar(select(Payout.id).where(Payout.idempotency_key == key)) is not None
            else:
                found = None
        finally:
            rollback()
        return found
