"""Races on real PostgreSQL: many threads, each with its own connection and
transaction, released together by a barrier."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from billing.check import run_checks
from billing.models import Account, Transfer
from exchange import jobs
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.extensions import db
from exchange.leads.decisions import advertiser_lead, approve_lead
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead, LeadEvent
from exchange.leads.validation import validate
from tests.factories import fund, lead_fields, make_join, make_offer, make_user

THREADS = 20
RATE = 1500


def race(app, work, arguments):
    """Run ``work(arg)`` for each argument in its own thread and transaction, all at once."""
    barrier = threading.Barrier(len(arguments))
    outcomes: list = []

    def run(argument):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                outcomes.append(("ok", work(argument)))
                commit()
            except Exception as error:  # recorded and asserted on by the caller
                rollback()
                outcomes.append(("error", repr(error)))

    threads = [threading.Thread(target=run, args=(arg,)) for arg in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def racing_app(live_app_factory):
    return live_app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 5, "max_overflow": 5})


def received_leads(advertiser, count):
    webmaster = make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000)
    participation = make_join(webmaster, offer)
    actor = Actor(kind="user", user_id=webmaster.id)
    ids = []
    for n in range(count):
        payload = {"offer_id": participation.offer_id, "fields": lead_fields(10_000 + n)}
        ids.append(submit_lead(webmaster.id, payload, actor).lead.id)
    db.session.commit()
    jobs.discard_pending()  # the race below does the validating
    return ids


def test_twenty_threads_approving_one_lead_charge_it_once(live_app_factory):
    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10 * RATE)
        [lead_id] = received_leads(advertiser, 1)
        assert validate(lead_id) == "pending"
        commit()
        advertiser_id = advertiser.id

    def approve(_):
        lead = advertiser_lead(advertiser_id, lead_id)
        return approve_lead(lead, Actor(kind="user", user_id=advertiser_id)).status

    outcomes = race(app, approve, list(range(THREADS)))

    assert outcomes.count(("ok", "approved")) == THREADS, outcomes
    with app.app_context():
        charges = db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.id.like(f"lead:{lead_id}:approve:%"))
        )
        assert charges == 2  # the payout leg and the margin leg, once each
        approvals = db.session.scalar(
            select(func.count())
            .select_from(LeadEvent)
            .where(LeadEvent.lead_id == lead_id, LeadEvent.action == "approve")
        )
        assert approvals == 1
        account = db.session.scalar(
            select(Account).where(Account.code == f"advertiser:{advertiser_id}:available:USD")
        )
        assert account.debits_posted == RATE
        assert not any(run_checks().values()), run_checks()


def test_twenty_leads_racing_for_a_balance_that_covers_ten(live_app_factory):
    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10 * RATE)
        lead_ids = received_leads(advertiser, THREADS)
        advertiser_id = advertiser.id

    outcomes = race(app, validate, lead_ids)

    assert sorted(outcomes) == sorted([("ok", "pending")] * 10 + [("ok", "awaiting_funds")] * 10), outcomes
    with app.app_context():
        statuses = dict(db.session.execute(select(Lead.status, func.count()).group_by(Lead.status)).all())
        assert statuses == {"pending": 10, "awaiting_funds": 10}
        account = db.session.scalar(
            select(Account).where(Account.code == f"advertiser:{advertiser_id}:available:USD")
        )
        assert account.balance.available == 0
        assert not any(run_checks().values()), run_checks()


def test_one_lead_validated_by_many_workers_at_once_is_decided_once(live_app_factory):
    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10 * RATE)
        [lead_id] = received_leads(advertiser, 1)

    outcomes = race(app, validate, [lead_id] * 10)

    assert outcomes == [("ok", "pending")] * 10, outcomes
    with app.app_context():
        reservations = db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.id.like(f"lead:{lead_id}:reserve:%"))
        )
        assert reservations == 2
        decisions = db.session.scalar(
            select(func.count())
            .select_from(LeadEvent)
            .where(LeadEvent.lead_id == lead_id, LeadEvent.action == "accept")
        )
        assert decisions == 1
