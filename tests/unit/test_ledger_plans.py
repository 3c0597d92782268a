"""Which transfers each money event plans (DESIGN §5, "The flows")."""

from __future__ import annotations

import pytest

from billing import plans
from billing.book import Book
from billing.domain import (
    PENDING,
    POST_PENDING,
    POSTED,
    VOID_PENDING,
    Balance,
    PendingAlreadyResolved,
    advertiser_available,
    platform,
    webmaster_available,
    webmaster_hold,
)
from billing.plans import LeadPrice

PRICE = LeadPrice(
    lead_id=42, advertiser_id=3, webmaster_id=5, currency="EUR", rate_minor=1000, payout_minor=700
)
FLAT = LeadPrice(
    lead_id=43, advertiser_id=3, webmaster_id=5, currency="EUR", rate_minor=700, payout_minor=700
)

ADV = advertiser_available(3, "EUR")
HOLD = webmaster_hold(5, "EUR")
WM = webmaster_available(5, "EUR")
REVENUE = platform("revenue", "EUR")
CASH_IN = platform("cash_in", "EUR")
CASH_OUT = platform("cash_out", "EUR")
LEAD_PLANS = (
    plans.lead_reservation,
    plans.lead_approval,
    plans.lead_release,
    plans.hold_release,
    plans.lead_return,
)


def legs(transfers):
    return [(t.id, t.debit, t.credit, t.amount_minor, t.kind, t.pending_id) for t in transfers]


# -- prices ------------------------------------------------------------------------------------------


def test_the_margin_is_the_rate_less_the_payout():
    assert PRICE.margin_minor == 300
    assert FLAT.margin_minor == 0


@pytest.mark.parametrize(("rate", "payout"), [(100, 101), (100, 0), (100, -5), (0, 0)])
def test_a_lead_price_needs_a_positive_payout_within_the_rate(rate, payout):
    with pytest.raises(ValueError):
        LeadPrice(1, 1, 1, "EUR", rate_minor=rate, payout_minor=payout)


def test_a_lead_price_may_pay_the_whole_rate_out():
    assert LeadPrice(1, 1, 1, "EUR", rate_minor=100, payout_minor=100).payout_minor == 100


# -- each event ---------------------------------------------------------------------------------------


def test_topup_credits_the_advertiser_from_cash_in():
    assert legs(plans.topup("pi_123", 3, "EUR", 5000)) == [("topup:pi_123", CASH_IN, ADV, 5000, POSTED, None)]


def test_topup_of_nothing_is_refused():
    with pytest.raises(ValueError):
        plans.topup("pi_0", 3, "EUR", 0)


def test_lead_reservation_reserves_payout_and_margin():
    assert legs(plans.lead_reservation(PRICE)) == [
        ("lead:42:reserve:payout", ADV, HOLD, 700, PENDING, None),
        ("lead:42:reserve:margin", ADV, REVENUE, 300, PENDING, None),
    ]


def test_lead_reservation_reserves_the_whole_rate():
    assert sum(t.amount_minor for t in plans.lead_reservation(PRICE)) == PRICE.rate_minor


def test_a_zero_margin_lead_plans_no_margin_leg():
    assert legs(plans.lead_reservation(FLAT)) == [("lead:43:reserve:payout", ADV, HOLD, 700, PENDING, None)]
    assert [t.id for t in plans.lead_approval(FLAT)] == ["lead:43:approve:payout"]
    assert [t.id for t in plans.lead_release(FLAT)] == ["lead:43:void:payout"]
    assert [t.id for t in plans.lead_return(FLAT)] == ["lead:43:return:payout"]


def test_lead_approval_posts_both_reserved_legs():
    assert legs(plans.lead_approval(PRICE)) == [
        ("lead:42:approve:payout", ADV, HOLD, 700, POST_PENDING, "lead:42:reserve:payout"),
        ("lead:42:approve:margin", ADV, REVENUE, 300, POST_PENDING, "lead:42:reserve:margin"),
    ]


def test_lead_release_voids_both_reserved_legs():
    assert legs(plans.lead_release(PRICE)) == [
        ("lead:42:void:payout", ADV, HOLD, 700, VOID_PENDING, "lead:42:reserve:payout"),
        ("lead:42:void:margin", ADV, REVENUE, 300, VOID_PENDING, "lead:42:reserve:margin"),
    ]


@pytest.mark.parametrize("resolve", [plans.lead_approval, plans.lead_release])
@pytest.mark.parametrize("price", [PRICE, FLAT], ids=["with-margin", "no-margin"])
def test_approval_and_release_resolve_exactly_the_reservation(resolve, price):
    reservation = {t.id: t for t in plans.lead_reservation(price)}
    resolutions = resolve(price)
    assert sorted(t.pending_id for t in resolutions) == sorted(reservation)
    for resolution in resolutions:
        pending = reservation[resolution.pending_id]
        assert (resolution.debit, resolution.credit, resolution.amount_minor) == (
            pending.debit,
            pending.credit,
            pending.amount_minor,
        )


@pytest.mark.parametrize(("resolve", "available"), [(plans.lead_approval, 0), (plans.lead_release, 1000)])
def test_resolutions_leave_nothing_pending_in_a_book(resolve, available):
    book = Book()
    book.record_all(plans.topup("pi", 3, "EUR", 1000))
    book.record_all(plans.lead_reservation(PRICE))
    assert book.balance(ADV).available == 0
    book.record_all(resolve(PRICE))
    for account in (ADV, HOLD, REVENUE):
        assert book.balance(account).debits_pending == 0
        assert book.balance(account).credits_pending == 0
    assert book.balance(ADV).available == available
    assert book.violations() == []


def test_a_lead_cannot_be_both_approved_and_released():
    book = Book()
    book.record_all(plans.topup("pi", 3, "EUR", 1000))
    book.record_all(plans.lead_reservation(PRICE))
    book.record_all(plans.lead_approval(PRICE))
    with pytest.raises(PendingAlreadyResolved):
        book.record_all(plans.lead_release(PRICE))


def test_hold_release_moves_the_payout_to_the_webmasters_available():
    assert legs(plans.hold_release(PRICE)) == [("lead:42:hold-release", HOLD, WM, 700, POSTED, None)]


def test_lead_return_reverses_payout_and_margin_to_the_advertiser():
    assert legs(plans.lead_return(PRICE)) == [
        ("lead:42:return:payout", HOLD, ADV, 700, POSTED, None),
        ("lead:42:return:margin", REVENUE, ADV, 300, POSTED, None),
    ]


def test_a_return_gives_the_advertiser_back_the_whole_rate():
    book = Book()
    for step in (
        plans.topup("pi", 3, "EUR", 1000),
        plans.lead_reservation(PRICE),
        plans.lead_approval(PRICE),
        plans.lead_return(PRICE),
    ):
        book.record_all(step)
    assert book.balance(ADV).available == 1000
    assert book.balance(HOLD) == Balance(credits_posted=700, debits_posted=700)
    assert book.balance(REVENUE).posted == 0


def test_payout_request_reserves_the_webmasters_available_for_cash_out():
    request = plans.payout_request(7, 5, "EUR", 650)
    assert legs([request]) == [("payout:7", WM, CASH_OUT, 650, PENDING, None)]


@pytest.mark.parametrize(
    ("paid", "transfer_id", "kind"),
    [(True, "payout:7:paid", POST_PENDING), (False, "payout:7:failed", VOID_PENDING)],
)
def test_payout_settlement_posts_when_paid_and_voids_when_failed(paid, transfer_id, kind):
    request = plans.payout_request(7, 5, "EUR", 650)
    assert legs([plans.payout_settlement(request, paid=paid)]) == [
        (transfer_id, WM, CASH_OUT, 650, kind, "payout:7")
    ]


def test_transfer_ids_depend_on_the_event_only():
    other = LeadPrice(
        lead_id=44, advertiser_id=3, webmaster_id=5, currency="EUR", rate_minor=1000, payout_minor=700
    )
    for plan in LEAD_PLANS:
        assert plan(PRICE) == plan(PRICE)  # the same event plans the same transfers
        assert {t.id for t in plan(PRICE)}.isdisjoint({t.id for t in plan(other)})


def test_every_transfer_id_of_a_lead_is_distinct():
    every = [t.id for plan in LEAD_PLANS for t in plan(PRICE)]
    assert len(every) == len(set(every)) == 9


def test_lead_plans_stay_in_the_leads_currency():
    usd = LeadPrice(lead_id=1, advertiser_id=3, webmaster_id=5, currency="USD", rate_minor=10, payout_minor=4)
    for plan in LEAD_PLANS:
        assert {t.currency for t in plan(usd)} == {"USD"}
