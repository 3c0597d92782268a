"""The validation job on leads that came in through intake (DESIGN §4, §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.domain import advertiser_available, platform, webmaster_hold
from billing.models import Transfer
from exchange.db import commit
from exchange.leads.intake import submit_lead
from exchange.leads.jobs import validate_lead_job
from exchange.leads.models import LeadEvent
from exchange.leads.reasons import SCORE_PARTS
from exchange.leads.schemas import LeadSubmitSchema
from exchange.leads.validation import validate
from exchange.offers.services import update_offer
from exchange.periodic import sweep
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import (
    available,
    count,
    event_tuples,
    events,
    fresh_lead,
    lead_transfers,
    submit,
    submit_and_validate,
    webmaster_actor,
)


@pytest.fixture
def market(ctx):
    """An advertiser with 10 000 USD minor units, a USD offer (rate 1500, payout 1000), a webmaster in it."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)
    return advertiser, webmaster, offer


def contact(n: int, *, phone_of: int | None = None, email_of: int | None = None, country: str = "US") -> dict:
    """Lead fields for person ``n``, optionally with the phone or the email of another person."""
    fields = lead_fields(n, country=country)
    if phone_of is not None:
        fields["phone"] = lead_fields(phone_of)["phone"]
    if email_of is not None:
        fields["email"] = lead_fields(email_of)["email"]
    return fields


def test_an_accepted_lead_is_pending_with_its_review_deadline_and_two_reservations(market, frozen_clock):
    advertiser, webmaster, offer = market
    lead_id = submit(webmaster, offer, contact(1))
    assert fresh_lead(lead_id).status == "received"

    assert validate_lead_job(lead_id) == "pending"

    lead = fresh_lead(lead_id)
    assert lead.status == "pending"
    assert lead.review_deadline == frozen_clock.now + timedelta(seconds=offer.review_window_seconds)
    assert (lead.currency, lead.rate_minor, lead.payout_minor) == ("USD", 1500, 1000)
    assert lead.reason_codes == []
    transfers = lead_transfers(lead_id)
    assert set(transfers) == {f"lead:{lead_id}:reserve:payout", f"lead:{lead_id}:reserve:margin"}
    payout, margin = transfers[f"lead:{lead_id}:reserve:payout"], transfers[f"lead:{lead_id}:reserve:margin"]
    assert (payout.kind, payout.amount_minor, payout.currency) == ("pending", 1000, "USD")
    assert payout.debit_account.code == advertiser_available(advertiser.id, "USD").code
    assert payout.credit_account.code == webmaster_hold(webmaster.id, "USD").code
    assert (margin.kind, margin.amount_minor) == ("pending", 500)
    assert margin.debit_account.code == advertiser_available(advertiser.id, "USD").code
    assert margin.credit_account.code == platform("revenue", "USD").code
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000 - 1500


def test_every_transition_of_an_accepted_lead_is_in_the_audit_log(market):
    _advertiser, webmaster, offer = market
    lead = submit_and_validate(webmaster, offer, contact(1))

    logged = events(lead.id)
    assert [(e.action, e.from_status, e.to_status) for e in logged] == [
        ("submit", None, "received"),
        ("accept", "received", "pending"),
    ]
    submitted, accepted = logged
    assert (submitted.actor_kind, submitted.actor_user_id) == ("user", webmaster.id)
    assert (accepted.actor_kind, accepted.actor_label, accepted.actor_user_id) == (
        "system",
        "validation",
        None,
    )


def test_committing_a_submission_runs_the_validation_job_in_process(market):
    _advertiser, webmaster, offer = market
    payload = LeadSubmitSchema().load({"offer_id": offer.id, "fields": contact(1)})
    lead_id = submit_lead(webmaster.id, payload, webmaster_actor(webmaster)).lead.id

    commit()

    assert fresh_lead(lead_id).status == "pending"


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"phone_of": 1}, id="same-phone"),
        pytest.param({"email_of": 1}, id="same-email"),
    ],
)
def test_the_same_phone_or_email_on_the_same_offer_within_the_window_is_a_duplicate(market, second):
    advertiser, webmaster, offer = market
    first = submit_and_validate(webmaster, offer, contact(1))
    assert first.status == "pending"

    lead = submit_and_validate(webmaster, offer, contact(2, **second))

    assert lead.status == "rejected"
    assert lead.reason_codes == ["duplicate"]
    assert lead_transfers(lead.id) == {}
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000 - 1500
    assert event_tuples(lead.id)[-1] == ("reject_invalid", "received", "rejected", "system", "validation")


def test_a_duplicate_is_found_whatever_the_phone_and_email_formatting(market):
    _advertiser, webmaster, offer = market
    submit_and_validate(webmaster, offer, contact(1))
    again = contact(2)
    again["phone"] = "+1 (202) 555-0001"
    again["email"] = "Person1@Example.COM"

    lead = submit_and_validate(webmaster, offer, again)

    assert lead.reason_codes == ["duplicate"]


@pytest.mark.parametrize(
    ("seconds_later", "status", "codes"),
    [
        pytest.param(3600 - 1, "rejected", ["duplicate"], id="one-second-inside-the-window"),
        pytest.param(3600 + 1, "pending", [], id="one-second-outside-the-window"),
    ],
)
def test_the_duplicate_window_is_measured_on_the_clock(ctx, frozen_clock, seconds_later, status, codes):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, duplicate_window_seconds=3600)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)
    assert submit_and_validate(webmaster, offer, contact(1)).status == "pending"

    frozen_clock.advance(seconds=seconds_later)
    lead = submit_and_validate(webmaster, offer, contact(1))

    assert (lead.status, lead.reason_codes) == (status, codes)


def test_the_same_contact_on_another_offer_is_not_a_duplicate(market):
    advertiser, webmaster, offer = market
    other = make_offer(advertiser, name="Heat pumps")
    make_join(webmaster, other)
    assert submit_and_validate(webmaster, offer, contact(1)).status == "pending"

    lead = submit_and_validate(webmaster, other, contact(1))

    assert (lead.status, lead.reason_codes) == ("pending", [])


def test_a_country_the_offer_does_not_allow_is_a_geo_mismatch(market):
    advertiser, webmaster, offer = market

    lead = submit_and_validate(webmaster, offer, contact(1, country="FR"))

    assert lead.status == "rejected"
    assert lead.reason_codes == ["geo_mismatch"]
    assert lead_transfers(lead.id) == {}
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000


def test_a_lead_for_a_paused_offer_is_rejected_as_offer_paused(market):
    advertiser, webmaster, offer = market
    lead_id = submit(webmaster, offer, contact(1))
    update_offer(advertiser.id, offer.id, {"status": "paused"})
    commit()

    assert validate_lead_job(lead_id) == "rejected"

    lead = fresh_lead(lead_id)
    assert lead.reason_codes == ["offer_paused"]
    assert lead_transfers(lead_id) == {}


def test_a_lead_the_balance_cannot_cover_waits_for_funds_without_a_transfer(ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 1499)
    make_join(webmaster, offer)
    transfers_before = count(Transfer)

    lead = submit_and_validate(webmaster, offer, contact(1))

    assert lead.status == "awaiting_funds"
    assert lead.reason_codes == []
    assert lead.review_deadline is None
    assert lead_transfers(lead.id) == {}
    assert count(Transfer) == transfers_before
    assert available(advertiser_available(advertiser.id, "USD")) == 1499
    assert event_tuples(lead.id)[-1] == (
        "wait_for_funds",
        "received",
        "awaiting_funds",
        "system",
        "validation",
    )


def test_every_finding_is_stored_on_the_lead(market):
    _advertiser, webmaster, offer = market
    submit_and_validate(webmaster, offer, contact(1))

    lead = submit_and_validate(webmaster, offer, contact(2, phone_of=1, country="FR"))

    assert lead.status == "rejected"
    assert lead.reason_codes == ["duplicate", "geo_mismatch"]
    by_code = {finding["code"]: finding for finding in lead.findings}
    # the rejections, a flag (no user agent outside a request), and the parts of the score
    assert set(by_code) == {"duplicate", "geo_mismatch", "bot_user_agent", *SCORE_PARTS}
    assert by_code["bot_user_agent"]["severity"] == "flag"
    assert sum(finding["points"] for finding in lead.findings) == lead.score
    assert by_code["duplicate"]["severity"] == "reject"
    assert "1 earlier" in by_code["duplicate"]["detail"]
    assert by_code["geo_mismatch"]["severity"] == "reject"
    assert "FR" in by_code["geo_mismatch"]["detail"]
    assert fresh_lead(lead.id).findings == lead.findings  # stored, not only returned


@pytest.mark.parametrize(
    ("fields", "balance", "status"),
    [
        pytest.param(contact(1), 10_000, "pending", id="pending"),
        pytest.param(contact(1, country="FR"), 10_000, "rejected", id="rejected"),
        pytest.param(contact(1), 100, "awaiting_funds", id="awaiting_funds"),
    ],
)
def test_validating_a_decided_lead_again_changes_nothing(ctx, fields, balance, status):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, balance)
    make_join(webmaster, offer)
    lead = submit_and_validate(webmaster, offer, fields)
    assert lead.status == status
    before = (lead.status, lead.reason_codes, lead.review_deadline, len(lead_transfers(lead.id)))
    transfers, logged = count(Transfer), count(LeadEvent)
    balance_before = available(advertiser_available(advertiser.id, "USD"))

    assert validate(lead.id) == status
    assert validate_lead_job(lead.id) == status

    lead = fresh_lead(lead.id)
    assert (lead.status, lead.reason_codes, lead.review_deadline, len(lead_transfers(lead.id))) == before
    assert count(Transfer) == transfers
    assert count(LeadEvent) == logged
    assert available(advertiser_available(advertiser.id, "USD")) == balance_before


def test_a_lead_without_margin_reserves_only_the_payout(ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, rate_minor=1000, payout_minor=1000)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)

    lead = submit_and_validate(webmaster, offer, contact(1))

    assert lead.status == "pending"
    assert set(lead_transfers(lead.id)) == {f"lead:{lead.id}:reserve:payout"}
    assert available(advertiser_available(advertiser.id, "USD")) == 10_000 - 1000


@pytest.mark.parametrize("written_again", ["(202) 555-0001", "1 202 555 0001", "202.555.0001"])
def test_a_phone_written_without_its_country_code_is_still_a_duplicate(market, written_again):
    _advertiser, webmaster, offer = market
    first = contact(1)
    first["phone"] = "+1 202 555 0001"
    submit_and_validate(webmaster, offer, first)
    again = contact(2)
    again["phone"] = written_again  # the lead's country (US) supplies the +1

    lead = submit_and_validate(webmaster, offer, again)

    assert lead.reason_codes == ["duplicate"]


def test_an_earlier_lead_that_was_rejected_does_not_make_a_later_one_a_duplicate(market):
    _advertiser, webmaster, offer = market
    outside = submit_and_validate(webmaster, offer, contact(1, country="FR"))  # geo_mismatch
    assert outside.reason_codes == ["geo_mismatch"]

    again = submit_and_validate(webmaster, offer, contact(2, phone_of=1))

    assert again.status == "pending"


def test_a_lead_waits_while_an_earlier_lead_with_its_contact_is_undecided(market, frozen_clock):
    """Validated out of order (parallel workers, a lost job): the later lead is
    decided only after the earlier one, so the earlier one is the original."""
    _advertiser, webmaster, offer = market
    first = submit(webmaster, offer, contact(1))
    second = submit(webmaster, offer, contact(2, phone_of=1))

    assert validate(second) == "received"
    assert events(second)[-1].action == "submit"  # nothing decided, nothing logged
    assert validate(first) == "pending"
    commit()

    frozen_clock.advance(seconds=301)
    assert sweep().requeued == 1
    assert fresh_lead(second).reason_codes == ["duplicate"]
