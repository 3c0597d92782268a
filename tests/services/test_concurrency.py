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
        return approve_lead(lead.id, Actor(kind="user", user_id=advertiser_id)).status

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


def test_two_advertisers_funding_waiting_leads_at_once_do_not_deadlock(live_app_factory, monkeypatch):
    """Leads of two advertisers from the same two webmasters, funded at once,
    each run meeting the webmasters in the opposite order. Each funding step
    is its own transaction, so no run holds one webmaster's hold account
    while it waits for the other's."""
    import exchange.leads.decisions as decisions
    from billing import ledger
    from billing.domain import webmaster_hold
    from exchange.leads.sweep import fund_in_arrival_order

    app = racing_app(live_app_factory)
    with app.app_context():
        advertisers = [make_user("advertiser"), make_user("advertiser")]
        webmasters = [make_user("webmaster"), make_user("webmaster")]
        offers = [make_offer(a, rate_minor=1000, payout_minor=1000) for a in advertisers]  # no margin leg
        for webmaster in webmasters:
            for offer in offers:
                make_join(webmaster, offer)
        for n, (w, o) in enumerate([(0, 0), (1, 1), (1, 0), (0, 1)]):
            actor = Actor(kind="user", user_id=webmasters[w].id)
            submit_lead(webmasters[w].id, {"offer_id": offers[o].id, "fields": lead_fields(500 + n)}, actor)
        commit()  # validated in-process: no money yet, all four wait
        for webmaster in webmasters:
            ledger.account_for(webmaster_hold(webmaster.id, "USD"))
        for advertiser in advertisers:
            fund(advertiser, 10_000)  # a credit alone funds nothing; the race below does
        assert set(db.session.scalars(select(Lead.status))) == {"awaiting_funds"}
        advertiser_ids = [a.id for a in advertisers]

    real_lock = decisions.lock_lead
    barrier = threading.Barrier(2, timeout=20)
    calls = threading.local()

    def lock_in_step(lead_id):
        calls.n = getattr(calls, "n", 0) + 1
        if calls.n == 2:  # both runs funded their first lead: take the second together
            barrier.wait()
        return real_lock(lead_id)

    monkeypatch.setattr(decisions, "lock_lead", lock_in_step)
    outcomes = race(
        app,
        lambda advertiser_id: fund_in_arrival_order(advertiser_id, "USD", Actor.system("test")),
        advertiser_ids,
    )

    assert outcomes == [("ok", 2), ("ok", 2)], outcomes
    with app.app_context():
        assert set(db.session.scalars(select(Lead.status))) == {"pending"}
        assert not any(run_checks().values()), run_checks()


def test_twenty_leads_racing_for_a_cap_of_five_leave_exactly_five_accepted(live_app_factory):
    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 100 * RATE)
        webmaster = make_user("webmaster")
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=1000, daily_cap=5)
        participation = make_join(webmaster, offer)
        actor = Actor(kind="user", user_id=webmaster.id)
        lead_ids = [
            submit_lead(
                webmaster.id, {"offer_id": participation.offer_id, "fields": lead_fields(900 + n)}, actor
            ).lead.id
            for n in range(THREADS)
        ]
        db.session.commit()
        jobs.discard_pending()

    outcomes = race(app, validate, lead_ids)

    assert sorted(outcomes) == sorted([("ok", "pending")] * 5 + [("ok", "rejected")] * 15), outcomes
    with app.app_context():
        rejected = db.session.scalars(select(Lead.reason_codes).where(Lead.status == "rejected")).all()
        assert rejected == [["cap_reached"]] * 15


def test_twenty_postbacks_racing_with_one_txid_make_one_conversion_charged_once(live_app_factory):
    from exchange.tracking.conversions.services import report_conversion
    from tests.factories import make_click

    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10 * RATE)
        offer = make_offer(advertiser, model="cpa", fields=[], allowed_countries=[], rate_minor=RATE)
        click_id = make_click(make_join(make_user("webmaster"), offer)).click_id
        advertiser_id = advertiser.id
    data = {"click_id": click_id, "txid": "race-1", "status": "approved", "amount": None, "currency": None}

    outcomes = race(app, lambda _: report_conversion(advertiser_id, data).lead.id, range(THREADS))

    assert [kind for kind, _ in outcomes] == ["ok"] * THREADS, outcomes
    assert len({lead_id for _, lead_id in outcomes}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.txid == "race-1")) == 1
        assert db.session.scalar(select(Lead.status).where(Lead.txid == "race-1")) == "approved"
        approvals = select(Transfer.amount_minor).where(Transfer.id.like("lead:%:approve:%"))
        assert sum(db.session.scalars(approvals)) == RATE
        assert not any(run_checks().values()), run_checks()
