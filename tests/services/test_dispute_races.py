"""Disputes raced on real PostgreSQL: many threads, each with its own connection and
transaction, released together, against one dispute or one lead. Whatever the order,
one effect, and the ledger's invariants hold."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from billing.check import run_checks
from billing.models import Account, Transfer
from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.db import commit
from exchange.disputes.models import Dispute
from exchange.disputes.resolution import decide_dispute, escalate
from exchange.disputes.services import open_dispute
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead, release_hold
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead, LeadEvent
from exchange.leads.validation import validate
from exchange.moderation.audit.models import ModerationAction
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.services.test_concurrency import RATE, THREADS, race, racing_app, received_leads

PAYOUT = 1000


def _lead_in(app, status: str) -> tuple[int, int, int]:
    """A lead rejected or approved by its advertiser: (lead id, advertiser id, webmaster id)."""
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10 * RATE)
        [lead_id] = received_leads(advertiser, 1)
        assert validate(lead_id) == "pending"
        actor = Actor(kind="user", user_id=advertiser.id)
        (reject_lead if status == "rejected" else approve_lead)(lead_id, actor)
        commit()
        lead = db.session.get(Lead, lead_id)
        return lead_id, advertiser.id, lead.webmaster_id


def _escalated_dispute(app, lead_id: int, opener_id: int, reason: str) -> int:
    with app.app_context():
        opener = db.session.get(User, opener_id)
        dispute = open_dispute(opener, Actor(kind="user", user_id=opener_id), lead_id, reason, "statement")
        escalate(dispute, "contested")
        commit()
        return dispute.id


def _moderators(app, count: int) -> list[Actor]:
    with app.app_context():
        ids = [make_user("moderator").id for _ in range(count)]
        return [Actor(kind="user", user_id=user_id, label=f"moderator {user_id}") for user_id in ids]


def test_twenty_moderators_overturning_one_appeal_reinstate_and_charge_once(live_app_factory):
    app = racing_app(live_app_factory)
    lead_id, advertiser_id, webmaster_id = _lead_in(app, "rejected")
    dispute_id = _escalated_dispute(app, lead_id, webmaster_id, "contact_valid")
    moderators = _moderators(app, THREADS)

    outcomes = race(
        app, lambda actor: decide_dispute(actor, dispute_id, "overturned", "valid").outcome, moderators
    )

    assert outcomes == [("ok", "overturned")] * THREADS, outcomes
    with app.app_context():
        charges = db.session.scalars(
            select(Transfer.id).where(Transfer.id.like(f"lead:{lead_id}:reinstated:%"))
        )
        assert sorted(charges) == sorted(
            f"lead:{lead_id}:reinstated:{verb}:{leg}"
            for verb in ("reserve", "approve")
            for leg in ("payout", "margin")
        )
        events = db.session.scalars(select(LeadEvent.action).where(LeadEvent.lead_id == lead_id)).all()
        assert events.count("reinstate") == 1 and events.count("approve") == 1
        assert db.session.scalar(select(func.count()).select_from(ModerationAction)) == 1
        account = db.session.scalar(
            select(Account).where(Account.code == f"advertiser:{advertiser_id}:available:USD")
        )
        assert account.debits_posted == RATE
        assert not any(run_checks().values()), run_checks()


def test_moderators_deciding_a_return_both_ways_at_once_apply_exactly_one_decision(live_app_factory):
    app = racing_app(live_app_factory)
    lead_id, advertiser_id, _ = _lead_in(app, "approved")
    dispute_id = _escalated_dispute(app, lead_id, advertiser_id, "invalid_contact")
    moderators = _moderators(app, THREADS)
    halves = [(actor, "upheld" if n % 2 else "overturned") for n, actor in enumerate(moderators)]

    outcomes = race(app, lambda pair: decide_dispute(pair[0], dispute_id, pair[1], "weighed").outcome, halves)

    winners = {value for kind, value in outcomes if kind == "ok"}
    assert len(winners) == 1, outcomes
    (outcome,) = winners
    assert outcomes.count(("ok", outcome)) == THREADS // 2
    assert (
        sum(1 for kind, value in outcomes if kind == "error" and "already decided" in value) == THREADS // 2
    )
    with app.app_context():
        dispute = db.session.get(Dispute, dispute_id)
        lead = db.session.get(Lead, lead_id)
        assert dispute.outcome == outcome
        assert lead.status == ("returned" if outcome == "upheld" else "approved")
        reversals = db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.id.like(f"lead:{lead_id}:return:%"))
        )
        assert reversals == (2 if outcome == "upheld" else 0)
        assert not any(run_checks().values()), run_checks()


def test_twenty_return_requests_on_one_lead_open_one_dispute(live_app_factory):
    app = racing_app(live_app_factory)
    lead_id, advertiser_id, _ = _lead_in(app, "approved")

    def ask(_):
        advertiser = db.session.get(User, advertiser_id)
        actor = Actor(kind="user", user_id=advertiser_id)
        return open_dispute(advertiser, actor, lead_id, "invalid_contact", "disconnected").id

    outcomes = race(app, ask, list(range(THREADS)))

    assert sum(1 for kind, _ in outcomes if kind == "ok") == 1, outcomes
    assert sum(1 for kind, value in outcomes if kind == "error" and "already has" in value) == THREADS - 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dispute)) == 1


def test_a_return_upheld_racing_the_hold_release_never_pays_out_a_returned_lead(live_app_factory):
    app = racing_app(live_app_factory)
    lead_id, advertiser_id, webmaster_id = _lead_in(app, "approved")
    dispute_id = _escalated_dispute(app, lead_id, advertiser_id, "invalid_contact")
    [moderator] = _moderators(app, 1)
    with app.app_context():
        hold_until = db.session.get(Lead, lead_id).hold_until
    clock.freeze(hold_until + timedelta(seconds=1))
    try:
        work = [("release", None)] * (THREADS - 1) + [("decide", moderator)]

        def step(item):
            kind, actor = item
            if kind == "release":
                return release_hold(lead_id)
            return decide_dispute(actor, dispute_id, "upheld", "disconnected").outcome

        outcomes = race(app, step, work)
    finally:
        clock.freeze(None)

    assert ("ok", "upheld") in outcomes, outcomes
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.status == "returned" and lead.hold_released_at is None
        available = db.session.scalar(
            select(Account).where(Account.code == f"webmaster:{webmaster_id}:available:USD")
        )
        assert available is None or available.credits_posted == 0
        assert not any(run_checks().values()), run_checks()


def test_ten_returns_asked_at_once_never_pass_the_automatic_rules_cap(live_app_factory):
    app = racing_app(live_app_factory)
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        fund(advertiser, 20 * RATE)
        offer = make_offer(
            advertiser,
            rate_minor=RATE,
            payout_minor=PAYOUT,
            auto_return_reasons=["invalid_contact"],
            auto_return_cap_count=2,
        )
        make_join(webmaster, offer)
        as_webmaster = Actor(kind="user", user_id=webmaster.id)
        lead_ids = []
        for n in range(10):
            payload = {"offer_id": offer.id, "fields": lead_fields(20_000 + n)}
            lead_id = submit_lead(webmaster.id, payload, as_webmaster).lead.id
            commit()
            approve_lead(lead_id, Actor(kind="user", user_id=advertiser.id))
            commit()
            lead_ids.append(lead_id)
        advertiser_id = advertiser.id

    def ask(lead_id):
        advertiser = db.session.get(User, advertiser_id)
        actor = Actor(kind="user", user_id=advertiser_id)
        return open_dispute(advertiser, actor, lead_id, "invalid_contact", "disconnected").status

    outcomes = race(app, ask, lead_ids)

    assert sorted(outcomes) == sorted([("ok", "resolved")] * 2 + [("ok", "awaiting_answer")] * 8), outcomes
    with app.app_context():
        returned = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.status == "returned"))
        assert returned == 2
        assert not any(run_checks().values()), run_checks()
