"""Validation in batches: many received leads decided in one transaction, with the
same outcome as deciding them one by one, in id order (docs/queue.md)."""

from __future__ import annotations

import pytest

from billing.domain import advertiser_available
from exchange.db import commit
from exchange.leads.validation import validate, validate_batch
from exchange.offers.services import update_offer
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import available, fresh_lead, lead_transfers, submit
from tests.integration.test_validation import contact

RATE, PAYOUT = 1500, 1000


@pytest.fixture
def market(ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=RATE, payout_minor=PAYOUT)
    make_join(webmaster, offer)
    return advertiser, webmaster, offer


def decided_in_one_batch(first_id: int, size: int = 50) -> dict[int, str]:
    verdicts = validate_batch(first_id, size)
    commit()
    return {verdict.lead.id: fresh_lead(verdict.lead.id).status for verdict in verdicts}


def test_a_batch_takes_the_received_leads_from_its_own_on_and_no_more_than_its_size(market):
    advertiser, webmaster, offer = market
    fund(advertiser, 10 * RATE)
    ids = [submit(webmaster, offer, lead_fields(n)) for n in range(5)]

    assert decided_in_one_batch(ids[1], size=3) == {ids[1]: "pending", ids[2]: "pending", ids[3]: "pending"}
    assert fresh_lead(ids[0]).status == "received"  # before the batch's first lead
    assert fresh_lead(ids[4]).status == "received"  # beyond its size


def test_a_balance_that_runs_out_mid_batch_leaves_the_later_leads_waiting_for_funds_in_order(market):
    advertiser, webmaster, offer = market
    fund(advertiser, 2 * RATE + RATE // 2)  # two leads and a half
    ids = [submit(webmaster, offer, lead_fields(n)) for n in range(3)]

    assert decided_in_one_batch(ids[0]) == {ids[0]: "pending", ids[1]: "pending", ids[2]: "awaiting_funds"}
    assert lead_transfers(ids[2]) == {}  # the refused lead's legs are not half written
    assert len(lead_transfers(ids[1])) == 2
    assert available(advertiser_available(advertiser.id, "USD")) == RATE // 2


def test_caps_count_the_leads_the_same_batch_accepted_before(market):
    advertiser, webmaster, offer = market
    fund(advertiser, 10 * RATE)
    update_offer(advertiser.id, offer.id, {"webmaster_daily_cap": 2})
    commit()
    ids = [submit(webmaster, offer, lead_fields(n)) for n in range(3)]

    assert decided_in_one_batch(ids[0]) == {ids[0]: "pending", ids[1]: "pending", ids[2]: "rejected"}
    assert fresh_lead(ids[2]).reason_codes == ["cap_reached"]


def test_a_repeated_contact_in_the_same_batch_waits_for_the_first_then_is_a_duplicate(market):
    advertiser, webmaster, offer = market
    fund(advertiser, 10 * RATE)
    first = submit(webmaster, offer, contact(1))
    again = submit(webmaster, offer, contact(2, phone_of=1))

    assert decided_in_one_batch(first) == {first: "pending", again: "received"}
    assert validate(again) == "rejected"  # its own job, after the batch
    assert fresh_lead(again).reason_codes == ["duplicate"]


def test_a_batch_decides_as_one_by_one_would(ctx):
    """The same leads on two identical markets: one decided in a batch, one lead by lead."""

    def market_with_leads() -> list[int]:
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, rate_minor=RATE, payout_minor=PAYOUT, allowed_countries=["US"])
        make_join(webmaster, offer)
        fund(advertiser, 3 * RATE)  # for three of the four leads that pass
        people = [contact(1), contact(2, country="FR"), contact(3), contact(4), contact(5)]
        return [submit(webmaster, offer, fields) for fields in people]

    batched, one_by_one = market_with_leads(), market_with_leads()
    in_batch = decided_in_one_batch(batched[0])
    alone = {}
    for lead_id in one_by_one:
        alone[lead_id] = validate(lead_id)
        commit()

    def outcome(lead_id: int) -> tuple:
        lead = fresh_lead(lead_id)
        return (
            lead.status,
            lead.reason_codes,
            lead.score,
            lead.temperature,
            lead.rate_minor,
            lead.payout_minor,
        )

    assert [in_batch[lead_id] for lead_id in batched] == list(alone.values())
    assert [outcome(lead_id) for lead_id in batched] == [outcome(lead_id) for lead_id in one_by_one]
    assert list(alone.values()) == ["pending", "rejected", "pending", "pending", "awaiting_funds"]
