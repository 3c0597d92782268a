"""Time-driven work (the sweep) and decisions on accepted leads, on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.domain import advertiser_available, platform, webmaster_available, webmaster_hold
from billing.services import credit_advertiser
from exchange.actors import Actor
from exchange.db import commit
from exchange.errors import Conflict
from exchange.leads.decisions import approve_lead, reject_lead, return_lead
from exchange.offers.services import update_offer
from exchange.periodic import sweep
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import (
    available,
    event_tuples,
    fresh_lead,
    lead_transfers,
    posted,
    snapshot,
    submit,
    submit_and_validate,
)

REVIEW = timedelta(days=3)
HOLD = timedelta(days=14)


@pytest.fixture
def market(book, frozen_clock):
    """An advertiser with 10 000 and an offer (rate 1500, payout 1000, review 3 days,
    hold 14 days) that a webmaster joined."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)
    return advertiser, webmaster, offer


def as_user(user) -> Actor:
    return Actor(kind="user", user_id=user.id, label="integration test")


def approved_lead(market, n: int = 1):
    """A lead accepted now and approved by its advertiser right away."""
    advertiser, webmaster, offer = market
    lead = submit_and_validate(webmaster, offer, lead_fields(n))
    approve_lead(lead.id, as_user(advertiser))
    commit()
    return fresh_lead(lead.id)


def test_the_sweep_leaves_a_pending_lead_alone_one_second_before_its_review_deadline(market, frozen_clock):
    _advertiser, webmaster, offer = market
    lead = submit_and_validate(webmaster, offer, lead_fields(1))
    frozen_clock.set(lead.review_deadline - timedelta(seconds=1))

    report = sweep()

    assert report.auto_approved == 0
    assert fresh_lead(lead.id).status == "pending"
    assert set(lead_transfers(lead.id)) == {
        f"lead:{lead.id}:reserve:payout",
        f"lead:{lead.id}:reserve:margin",
    }


def test_the_sweep_approves_a_pending_lead_one_second_after_its_review_deadline(market, frozen_clock):
    advertiser, webmaster, offer = market
    accepted_at = frozen_clock.now
    lead = submit_and_validate(webmaster, offer, lead_fields(1))
    assert lead.review_deadline == accepted_at + REVIEW
    frozen_clock.set(lead.review_deadline + timedelta(seconds=1))
    now = frozen_clock.now

    report = sweep()

    assert report.auto_approved == 1
    lead = fresh_lead(lead.id)
    assert lead.status == "approved"
    assert lead.approved_at == now
    assert lead.hold_until == now + HOLD
    assert event_tuples(lead.id)[-1] == ("auto_approve", "pending", "approved", "system", "sweep")
    transfers = lead_transfers(lead.id)
    approve_payout, approve_margin = (
        transfers[f"lead:{lead.id}:approve:payout"],
        transfers[f"lead:{lead.id}:approve:margin"],
    )
    assert (approve_payout.kind, approve_payout.amount_minor) == ("post_pending", 1000)
    assert approve_payout.pending_id == f"lead:{lead.id}:reserve:payout"
    assert (approve_margin.kind, approve_margin.amount_minor) == ("post_pending", 500)
    assert posted(advertiser_available(advertiser.id, "USD")) == 10_000 - 1500
    assert posted(webmaster_hold(webmaster.id, "USD")) == 1000
    assert posted(platform("revenue", "USD")) == 500


def test_the_sweep_keeps_the_hold_one_second_before_it_ends(market, frozen_clock):
    _advertiser, webmaster, _offer = market
    lead = approved_lead(market)
    frozen_clock.set(lead.hold_until - timedelta(seconds=1))

    report = sweep()

    assert report.holds_released == 0
    lead = fresh_lead(lead.id)
    assert lead.hold_released_at is None
    assert f"lead:{lead.id}:hold-release" not in lead_transfers(lead.id)
    assert available(webmaster_available(webmaster.id, "USD")) == 0
    assert posted(webmaster_hold(webmaster.id, "USD")) == 1000


def test_the_sweep_releases_the_hold_one_second_after_it_ends(market, frozen_clock):
    _advertiser, webmaster, _offer = market
    lead = approved_lead(market)
    assert lead.hold_until == frozen_clock.now + HOLD
    frozen_clock.set(lead.hold_until + timedelta(seconds=1))
    wallet_before = available(webmaster_available(webmaster.id, "USD"))

    report = sweep()

    assert report.holds_released == 1
    lead = fresh_lead(lead.id)
    assert lead.status == "approved"
    assert lead.hold_released_at == frozen_clock.now
    release = lead_transfers(lead.id)[f"lead:{lead.id}:hold-release"]
    assert (release.kind, release.amount_minor) == ("posted", 1000)
    assert release.debit_account.code == webmaster_hold(webmaster.id, "USD").code
    assert release.credit_account.code == webmaster_available(webmaster.id, "USD").code
    assert available(webmaster_available(webmaster.id, "USD")) == wallet_before + 1000
    assert posted(webmaster_hold(webmaster.id, "USD")) == 0


def test_a_credit_funds_waiting_leads_in_arrival_order_until_the_balance_runs_short(book, frozen_clock):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    waiting = []
    for n in (1, 2, 3):
        waiting.append(submit_and_validate(webmaster, offer, lead_fields(n)).id)
        frozen_clock.advance(seconds=1)
    assert [fresh_lead(i).status for i in waiting] == ["awaiting_funds"] * 3

    credit_advertiser(advertiser.id, "USD", 2 * 1500 + 1499, "wire-for-two")
    commit()
    report = sweep()

    assert report.funded == 2
    assert [fresh_lead(i).status for i in waiting] == ["pending", "pending", "awaiting_funds"]
    assert available(advertiser_available(advertiser.id, "USD")) == 1499
    for lead_id in waiting[:2]:
        assert event_tuples(lead_id)[-1] == ("fund", "awaiting_funds", "pending", "system", "sweep")
        assert fresh_lead(lead_id).review_deadline == frozen_clock.now + REVIEW
        assert set(lead_transfers(lead_id)) == {
            f"lead:{lead_id}:reserve:payout",
            f"lead:{lead_id}:reserve:margin",
        }
    assert lead_transfers(waiting[2]) == {}


def test_a_cheaper_later_lead_does_not_jump_the_queue_of_waiting_leads(book, frozen_clock):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    dear, cheap = (
        make_offer(advertiser),
        make_offer(advertiser, name="Cheap", rate_minor=600, payout_minor=400),
    )
    make_join(webmaster, dear)
    make_join(webmaster, cheap)
    first = submit_and_validate(webmaster, dear, lead_fields(1)).id
    frozen_clock.advance(seconds=1)
    second = submit_and_validate(webmaster, cheap, lead_fields(2)).id
    assert [fresh_lead(i).status for i in (first, second)] == ["awaiting_funds", "awaiting_funds"]

    credit_advertiser(advertiser.id, "USD", 1000, "wire-short")
    commit()
    report = sweep()

    assert report.funded == 0
    assert [fresh_lead(i).status for i in (first, second)] == ["awaiting_funds", "awaiting_funds"]
    assert available(advertiser_available(advertiser.id, "USD")) == 1000


def test_a_waiting_lead_is_funded_at_the_price_fixed_when_it_was_validated(book, frozen_clock):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    lead_id = submit_and_validate(webmaster, offer, lead_fields(1)).id
    assert fresh_lead(lead_id).status == "awaiting_funds"
    offer.rate_minor, offer.payout_minor = 3000, 2000
    commit()

    credit_advertiser(advertiser.id, "USD", 10_000, "wire-later")
    commit()
    sweep()

    lead = fresh_lead(lead_id)
    assert (lead.status, lead.rate_minor, lead.payout_minor) == ("pending", 1500, 1000)
    transfers = lead_transfers(lead_id)
    assert transfers[f"lead:{lead_id}:reserve:payout"].amount_minor == 1000
    assert transfers[f"lead:{lead_id}:reserve:margin"].amount_minor == 500
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000 - 1500


def test_the_sweep_leaves_a_fresh_received_lead_for_its_job(market, frozen_clock, app):
    _advertiser, webmaster, offer = market
    lead_id = submit(webmaster, offer, lead_fields(1))
    frozen_clock.advance(seconds=app.config["STUCK_RECEIVED_SECONDS"] - 1)

    report = sweep()

    assert report.requeued == 0
    assert fresh_lead(lead_id).status == "received"


def test_the_sweep_validates_a_lead_stuck_in_received(market, frozen_clock, app):
    _advertiser, webmaster, offer = market
    lead_id = submit(webmaster, offer, lead_fields(1))
    assert fresh_lead(lead_id).status == "received"
    frozen_clock.advance(seconds=app.config["STUCK_RECEIVED_SECONDS"] + 1)

    report = sweep()

    assert report.requeued == 1
    lead = fresh_lead(lead_id)
    assert lead.status == "pending"
    assert event_tuples(lead_id)[-1] == ("accept", "received", "pending", "system", "validation")


def test_a_second_sweep_in_a_row_changes_nothing(book, frozen_clock):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    make_join(webmaster, offer)
    fund(advertiser, 3 * 1500)
    released = submit_and_validate(webmaster, offer, lead_fields(1))
    approve_lead(released.id, as_user(advertiser))
    commit()
    frozen_clock.advance(days=10)
    due_for_approval = submit_and_validate(webmaster, offer, lead_fields(2))
    submit_and_validate(webmaster, offer, lead_fields(3))  # spends the rest of the balance
    short = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (4, 5)]
    credit_advertiser(advertiser.id, "USD", 1500, "one-more")
    commit()
    stuck = submit(webmaster, offer, lead_fields(6))
    frozen_clock.advance(days=5)

    first = sweep()
    assert (first.auto_approved, first.holds_released, first.funded, first.requeued) == (2, 1, 1, 1)
    assert fresh_lead(due_for_approval.id).status == "approved"
    assert fresh_lead(released.id).hold_released_at is not None
    assert [fresh_lead(i).status for i in short] == ["pending", "awaiting_funds"]
    assert fresh_lead(stuck).status == "awaiting_funds"
    before = snapshot()

    second = sweep()

    assert (second.auto_approved, second.holds_released, second.funded, second.requeued) == (0, 0, 0, 0)
    assert snapshot() == before


def test_rejecting_a_pending_lead_voids_its_reservation(market, frozen_clock):
    advertiser, webmaster, offer = market
    lead = submit_and_validate(webmaster, offer, lead_fields(1))

    reject_lead(lead.id, as_user(advertiser), note="wrong number")
    commit()

    lead = fresh_lead(lead.id)
    assert (lead.status, lead.reason_codes) == ("rejected", ["advertiser_rejected"])
    transfers = lead_transfers(lead.id)
    assert transfers[f"lead:{lead.id}:void:payout"].kind == "void_pending"
    assert transfers[f"lead:{lead.id}:void:margin"].kind == "void_pending"
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000
    assert event_tuples(lead.id)[-1] == ("reject", "pending", "rejected", "user", "integration test")


def test_returning_an_approved_lead_reverses_its_charge(market, frozen_clock):
    advertiser, webmaster, _offer = market
    lead = approved_lead(market)
    advertiser_before = available(advertiser_available(advertiser.id, "USD"))
    hold_before = posted(webmaster_hold(webmaster.id, "USD"))
    revenue_before = posted(platform("revenue", "USD"))
    frozen_clock.advance(days=2)

    return_lead(lead.id, as_user(advertiser), note="never asked for a quote")
    commit()

    lead = fresh_lead(lead.id)
    assert lead.status == "returned"
    assert available(advertiser_available(advertiser.id, "USD")) == advertiser_before + 1500 == 10_000
    assert posted(webmaster_hold(webmaster.id, "USD")) == hold_before - 1000 == 0
    assert posted(platform("revenue", "USD")) == revenue_before - 500 == 0
    transfers = lead_transfers(lead.id)
    assert transfers[f"lead:{lead.id}:return:payout"].amount_minor == 1000
    assert transfers[f"lead:{lead.id}:return:margin"].amount_minor == 500
    assert event_tuples(lead.id)[-1] == ("return", "approved", "returned", "user", "integration test")


def test_a_lead_cannot_be_returned_once_its_hold_is_released(market, frozen_clock):
    advertiser, webmaster, _offer = market
    lead = approved_lead(market)
    frozen_clock.set(lead.hold_until + timedelta(seconds=1))
    assert sweep().holds_released == 1
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        return_lead(lead.id, as_user(advertiser))

    assert refused.value.code == "lead_not_returnable"
    assert snapshot() == before
    assert fresh_lead(lead.id).status == "approved"
    assert available(webmaster_available(webmaster.id, "USD")) == 1000


def test_a_lead_cannot_be_returned_once_its_hold_has_ended_even_before_the_sweep_releases_it(
    market, frozen_clock
):
    """The hold's end, not the sweep's timing, closes the return window: a
    return may never race the release of the same money."""
    advertiser, _webmaster, offer = market
    update_offer(advertiser.id, offer.id, {"return_window_seconds": offer.hold_seconds})  # its longest
    commit()
    lead = approved_lead(market)
    frozen_clock.set(lead.hold_until)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        return_lead(lead.id, as_user(advertiser))

    assert refused.value.code == "lead_not_returnable"
    assert snapshot() == before
    frozen_clock.set(lead.hold_until - timedelta(seconds=1))
    assert return_lead(lead.id, as_user(advertiser)).status == "returned"
