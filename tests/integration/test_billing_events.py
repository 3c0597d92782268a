"""Billing below the marketplace: it announces money moving (billing/events.py) and runs the
invariants the features add (billing/check.py); ``create_app`` subscribes the features."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.check import INVARIANTS, add_invariant, invariants, run_checks
from billing.events import FundsChanged, Notice, funds_arrived, funds_taken_back, on_funds_changed
from exchange import jobs
from exchange.extensions import db
from exchange.notifications.models import Notification
from tests.factories import make_user

LISTENERS = "billing.funds_changed"


@pytest.fixture
def heard(app):
    """Every FundsChanged announced while the test runs."""
    events: list[FundsChanged] = []
    on_funds_changed(app, events.append)
    yield events
    app.extensions[LISTENERS].remove(events.append)


@pytest.fixture
def pending_jobs(ctx):
    """The jobs asked for in the test's transaction (dropped at its end, never dispatched)."""
    yield lambda: [request.func for request in db.session.info.get(jobs._PENDING_KEY, [])]
    jobs.discard_pending()


def test_the_app_subscribes_leads_offers_and_notifications_to_billings_money_events(app):
    names = [listener.__name__ for listener in app.extensions[LISTENERS]]

    assert names == ["tell_of_money", "fund_when_money_arrives", "align_when_money_is_taken_back"]


def test_a_credit_by_the_cli_is_announced_as_money_arrived(app, ctx, heard):
    advertiser = make_user("advertiser")

    result = app.test_cli_runner().invoke(
        args=["billing", "credit", "--email", advertiser.email, "--amount-minor", "500", "--currency", "USD"]
    )

    assert result.exit_code == 0, result.output
    assert heard == [FundsChanged(advertiser.id, "USD", arrived=True)]


def test_money_arriving_asks_for_waiting_leads_to_be_funded_and_tells_nobody_without_a_notice(pending_jobs):
    advertiser = make_user("advertiser")

    funds_arrived(advertiser.id, "EUR")

    assert pending_jobs() == ["exchange.leads.jobs.fund_waiting_leads_job"]
    assert db.session.scalars(select(Notification).where(Notification.user_id == advertiser.id)).all() == []


def test_money_taken_back_tells_the_advertiser_and_asks_its_offers_to_follow_the_balance(pending_jobs):
    advertiser = make_user("advertiser")

    funds_taken_back(
        advertiser.id, "USD", Notice("topup_refunded", "Stripe refunded 5.00 USD.", {"owed_minor": 0})
    )

    assert pending_jobs() == ["exchange.offers.jobs.align_offers_job"]
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == advertiser.id))
    assert (note.kind, note.message, note.data) == (
        "topup_refunded",
        "Stripe refunded 5.00 USD.",
        {"owed_minor": 0},
    )


def test_the_leads_and_sales_invariants_are_added_to_the_ledgers_own(app, ctx):
    added = ["leads_charged_as_their_status_says", "sales_charged_as_their_status_says"]
    assert not set(added) & set(INVARIANTS)
    assert list(invariants()) == [*INVARIANTS, *added]


def test_an_added_invariant_runs_with_the_check_and_a_name_is_taken_once(app, ctx):
    add_invariant(app, "always_broken_for_the_test", lambda: ["broken on purpose"])
    try:
        assert run_checks()["always_broken_for_the_test"] == ["broken on purpose"]
        with pytest.raises(ValueError, match="checked already"):
            add_invariant(app, "always_broken_for_the_test", list)
        with pytest.raises(ValueError, match="checked already"):
            add_invariant(app, "balanced_per_currency", list)
    finally:
        app.extensions["billing.invariants"].pop("always_broken_for_the_test")
