"""billing.check.run_checks(): quiet on a consistent book, names each broken invariant."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from billing.check import invariants, run_checks
from billing.domain import advertiser_available, webmaster_available
from billing.payouts.models import Payout
from billing.payouts.services import request_payout, settle_payout
from billing.services import credit_advertiser
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import reject_lead, return_lead
from exchange.periodic import sweep
from tests.factories import lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import available, fresh_lead, submit_and_validate


def failing(results: dict[str, list[str]]) -> set[str]:
    return {name for name, problems in results.items() if problems}


@pytest.fixture
def full_loop(book, frozen_clock):
    """A book after the whole loop: a credit, leads accepted, approved at their deadline,
    one rejected, one returned, holds released, payouts requested and settled (one paid,
    one failed), and leads still pending or waiting for funds."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    as_advertiser = Actor(kind="user", user_id=advertiser.id, label="test")
    credit_advertiser(advertiser.id, "USD", 4 * 1500, "wire-1")
    commit()
    approved = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (1, 2, 3)]
    rejected = submit_and_validate(webmaster, offer, lead_fields(4))
    reject_lead(rejected.id, as_advertiser)
    commit()
    frozen_clock.advance(days=3, seconds=1)
    assert sweep().auto_approved == 3
    return_lead(approved[2], as_advertiser)
    commit()
    frozen_clock.advance(days=14, seconds=1)
    assert sweep().holds_released == 2
    paid = request_payout(webmaster.id, "USD", 1000).id
    failed = request_payout(webmaster.id, "USD", 1000).id
    commit()
    settle_payout(paid, paid=True, settled_by_id=None)
    settle_payout(failed, paid=False, settled_by_id=None)
    commit()
    later = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (5, 6, 7)]

    statuses = [fresh_lead(i).status for i in [*approved, rejected.id, *later]]
    assert statuses == [
        "approved",
        "approved",
        "returned",
        "rejected",
        "pending",
        "pending",
        "awaiting_funds",
    ]
    assert [db.session.get(Payout, i).status for i in (paid, failed)] == ["paid", "failed"]
    assert available(advertiser_available(advertiser.id, "USD")) == 0
    assert available(webmaster_available(webmaster.id, "USD")) == 2000 - 1000
    return {"advertiser": advertiser, "pending": later[0], "waiting": later[2], "released": approved[0]}


def test_a_consistent_book_passes_every_check(full_loop):
    results = run_checks()

    assert set(results) == set(invariants())
    assert results == {name: [] for name in invariants()}


def test_a_tampered_cached_balance_is_named(full_loop):
    code = advertiser_available(full_loop["advertiser"].id, "USD").code
    db.session.execute(
        text("UPDATE accounts SET credits_posted = credits_posted + 7 WHERE code = :code"), {"code": code}
    )
    commit()

    results = run_checks()

    assert failing(results) == {"cached_balances_match_transfers", "balanced_per_currency"}
    assert any(code in problem for problem in results["cached_balances_match_transfers"])
    assert any(problem.startswith("USD") for problem in results["balanced_per_currency"])


def test_a_lead_approved_without_a_charge_is_named(full_loop):
    lead_id = full_loop["pending"]
    db.session.execute(text("UPDATE leads SET status = 'approved' WHERE id = :id"), {"id": lead_id})
    commit()

    results = run_checks()

    assert failing(results) == {"leads_charged_as_their_status_says"}
    assert results["leads_charged_as_their_status_says"] == [
        f"lead {lead_id} is approved with 1 reservation(s), 0 void(s), 0 charge(s), "
        "0 hold release(s), 0 return(s)"
    ]


def test_a_waiting_lead_marked_approved_is_named_too(full_loop):
    lead_id = full_loop["waiting"]
    db.session.execute(text("UPDATE leads SET status = 'approved' WHERE id = :id"), {"id": lead_id})
    commit()

    results = run_checks()

    assert failing(results) == {"leads_charged_as_their_status_says"}
    assert any(
        f"lead {lead_id} is approved" in problem for problem in results["leads_charged_as_their_status_says"]
    )


def test_a_lead_returned_after_its_hold_was_released_is_named(full_loop):
    """The state a return racing the hold release would leave: the payout both
    released to the webmaster and (said to be) returned to the advertiser."""
    lead_id = full_loop["released"]
    db.session.execute(text("UPDATE leads SET status = 'returned' WHERE id = :id"), {"id": lead_id})
    commit()

    problems = run_checks()["leads_charged_as_their_status_says"]

    assert any(f"lead {lead_id} is returned" in p and "1 hold release(s), 0 return(s)" in p for p in problems)
