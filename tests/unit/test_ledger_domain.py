"""The ledger's rules (DESIGN §5, "The ledger"): accounts, transfers, balances, admission."""

from __future__ import annotations

import pytest

from billing.domain import (
    PENDING,
    POST_PENDING,
    POSTED,
    VOID_PENDING,
    AccountRef,
    Balance,
    InsufficientFunds,
    LedgerError,
    PendingAlreadyResolved,
    PendingNotFound,
    PlannedTransfer,
    TransferConflict,
    admit,
    advertiser_available,
    apply_credit,
    apply_debit,
    platform,
    resolution_of,
    webmaster_available,
    webmaster_hold,
)

ADV = advertiser_available(1, "EUR")
HOLD = webmaster_hold(2, "EUR")
WM_AVAILABLE = webmaster_available(2, "EUR")
REVENUE = platform("revenue", "EUR")
CASH_IN = platform("cash_in", "EUR")
CASH_OUT = platform("cash_out", "EUR")


def reserve(amount: int = 100, transfer_id: str = "lead:1:reserve:payout") -> PlannedTransfer:
    return PlannedTransfer(transfer_id, ADV, HOLD, amount, kind=PENDING)


def admit_new(transfer: PlannedTransfer, balance: Balance) -> bool:
    return admit(transfer, existing=None, pending=None, pending_resolved=False, debit_balance=balance)


# -- accounts -------------------------------------------------------------------------------------


def test_account_codes_name_owner_purpose_and_currency():
    assert ADV.code == "advertiser:1:available:EUR"
    assert HOLD.code == "webmaster:2:hold:EUR"
    assert WM_AVAILABLE.code == "webmaster:2:available:EUR"
    assert CASH_IN.code == "platform:cash_in:EUR"


@pytest.mark.parametrize(
    ("owner", "owner_id", "purpose"),
    [
        ("advertiser", 1, "hold"),
        ("advertiser", 1, "revenue"),
        ("webmaster", 1, "cash_in"),
        ("platform", None, "available"),
        ("customer", 1, "available"),
    ],
)
def test_an_owner_has_only_its_documented_accounts(owner, owner_id, purpose):
    with pytest.raises(ValueError):
        AccountRef(owner, owner_id, purpose, "EUR")


@pytest.mark.parametrize(
    ("owner", "owner_id", "purpose"),
    [("platform", 3, "revenue"), ("advertiser", None, "available"), ("webmaster", None, "hold")],
)
def test_platform_accounts_and_only_they_have_no_owner_id(owner, owner_id, purpose):
    with pytest.raises(ValueError):
        AccountRef(owner, owner_id, purpose, "EUR")


def test_cash_in_is_the_only_unbounded_account():
    assert CASH_IN.bounded is False
    for account in (ADV, HOLD, WM_AVAILABLE, REVENUE, CASH_OUT):
        assert account.bounded is True, account.code


# -- planned transfers ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -1, -500])
def test_a_transfer_moves_a_positive_amount(amount):
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, HOLD, amount)


def test_a_transfer_needs_two_different_accounts():
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, advertiser_available(1, "EUR"), 10)


def test_a_transfer_never_crosses_currencies():
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, webmaster_hold(2, "USD"), 10)


def test_a_transfer_has_a_known_kind():
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, HOLD, 10, kind="reversed")


@pytest.mark.parametrize("kind", [POST_PENDING, VOID_PENDING])
def test_a_resolution_must_name_its_pending_transfer(kind):
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, HOLD, 10, kind=kind)


@pytest.mark.parametrize("kind", [POSTED, PENDING])
def test_only_resolutions_name_a_pending_transfer(kind):
    with pytest.raises(ValueError):
        PlannedTransfer("t", ADV, HOLD, 10, kind=kind, pending_id="p")


def test_a_transfer_has_the_currency_of_its_accounts():
    assert PlannedTransfer("t", ADV, HOLD, 10).currency == "EUR"


# -- balances -------------------------------------------------------------------------------------


def test_available_counts_pending_debits_but_not_pending_credits():
    balance = Balance(debits_pending=30, debits_posted=20, credits_pending=1000, credits_posted=100)
    assert balance.available == 100 - 20 - 30
    assert balance.posted == 100 - 20


def test_apply_debit_for_each_kind():
    start = Balance(debits_pending=50, debits_posted=10, credits_pending=7, credits_posted=200)
    assert apply_debit(start, POSTED, 5) == Balance(50, 15, 7, 200)
    assert apply_debit(start, PENDING, 5) == Balance(55, 10, 7, 200)
    assert apply_debit(start, POST_PENDING, 5) == Balance(45, 15, 7, 200)
    assert apply_debit(start, VOID_PENDING, 5) == Balance(45, 10, 7, 200)


def test_apply_credit_for_each_kind():
    start = Balance(debits_pending=3, debits_posted=4, credits_pending=50, credits_posted=10)
    assert apply_credit(start, POSTED, 5) == Balance(3, 4, 50, 15)
    assert apply_credit(start, PENDING, 5) == Balance(3, 4, 55, 10)
    assert apply_credit(start, POST_PENDING, 5) == Balance(3, 4, 45, 15)
    assert apply_credit(start, VOID_PENDING, 5) == Balance(3, 4, 45, 10)


def test_posting_a_pending_debit_leaves_available_unchanged_and_voiding_restores_it():
    reserved = apply_debit(Balance(credits_posted=100), PENDING, 40)
    assert reserved.available == 60
    assert apply_debit(reserved, POST_PENDING, 40).available == 60
    assert apply_debit(reserved, VOID_PENDING, 40).available == 100


# -- admission -------------------------------------------------------------------------------------


def test_admit_records_a_new_transfer_that_is_covered():
    assert admit_new(PlannedTransfer("t", ADV, HOLD, 100), Balance(credits_posted=100)) is True


def test_admit_is_a_no_op_for_an_identical_existing_transfer():
    transfer = PlannedTransfer("topup:pi_1", CASH_IN, ADV, 500)
    same = PlannedTransfer("topup:pi_1", CASH_IN, ADV, 500)
    # even when the balance would no longer allow it: nothing is going to move
    assert (
        admit(same, existing=transfer, pending=None, pending_resolved=False, debit_balance=Balance()) is False
    )


def test_admit_is_a_no_op_for_an_identical_existing_resolution():
    pending = reserve()
    post = resolution_of(pending, "lead:1:approve:payout", post=True)
    assert (
        admit(post, existing=post, pending=pending, pending_resolved=True, debit_balance=Balance()) is False
    )


@pytest.mark.parametrize(
    "other",
    [
        PlannedTransfer("topup:pi_1", CASH_IN, ADV, 501),
        PlannedTransfer("topup:pi_1", CASH_IN, advertiser_available(9, "EUR"), 500),
        PlannedTransfer("topup:pi_1", CASH_IN, ADV, 500, kind=PENDING),
    ],
)
def test_admit_refuses_the_same_id_with_other_content(other):
    existing = PlannedTransfer("topup:pi_1", CASH_IN, ADV, 500)
    with pytest.raises(TransferConflict):
        admit(other, existing=existing, pending=None, pending_resolved=False, debit_balance=Balance())


@pytest.mark.parametrize("kind", [POSTED, PENDING])
def test_admit_refuses_a_debit_beyond_what_a_bounded_account_has(kind):
    with pytest.raises(InsufficientFunds):
        admit_new(PlannedTransfer("t", ADV, HOLD, 101, kind=kind), Balance(credits_posted=100))


@pytest.mark.parametrize("kind", [POSTED, PENDING])
def test_admit_counts_pending_debits_against_available(kind):
    balance = Balance(credits_posted=100, debits_pending=60)
    assert admit_new(PlannedTransfer("t", ADV, HOLD, 40, kind=kind), balance) is True
    with pytest.raises(InsufficientFunds):
        admit_new(PlannedTransfer("t", ADV, HOLD, 41, kind=kind), balance)


def test_admit_does_not_count_pending_credits_as_funds():
    with pytest.raises(InsufficientFunds):
        admit_new(PlannedTransfer("t", HOLD, WM_AVAILABLE, 10), Balance(credits_pending=10))


def test_admit_lets_cash_in_go_below_zero():
    assert admit_new(PlannedTransfer("topup:x", CASH_IN, ADV, 10**9), Balance()) is True


@pytest.mark.parametrize("account", [ADV, HOLD, WM_AVAILABLE, REVENUE])
def test_every_other_account_is_bounded(account):
    other = CASH_OUT
    with pytest.raises(InsufficientFunds):
        admit_new(PlannedTransfer("t", account, other, 1), Balance())


def test_insufficient_funds_is_a_ledger_error_with_its_code():
    with pytest.raises(LedgerError) as raised:
        admit_new(PlannedTransfer("t", ADV, HOLD, 1), Balance())
    assert raised.value.code == "insufficient_funds"


def test_admit_resolves_a_pending_transfer_without_looking_at_funds():
    pending = reserve(100)
    for post in (True, False):
        resolution = resolution_of(pending, "r", post=post)
        # the reservation already took the funds: available is 0 and must stay enough
        fully_reserved = Balance(credits_posted=100, debits_pending=100)
        assert (
            admit(
                resolution,
                existing=None,
                pending=pending,
                pending_resolved=False,
                debit_balance=fully_reserved,
            )
            is True
        )


def test_admit_refuses_a_resolution_of_an_unknown_pending_transfer():
    resolution = PlannedTransfer("r", ADV, HOLD, 100, kind=POST_PENDING, pending_id="nowhere")
    with pytest.raises(PendingNotFound):
        admit(resolution, existing=None, pending=None, pending_resolved=False, debit_balance=Balance())


def test_admit_refuses_a_resolution_of_a_transfer_that_is_not_pending():
    posted = PlannedTransfer("p", ADV, HOLD, 100)
    resolution = PlannedTransfer("r", ADV, HOLD, 100, kind=VOID_PENDING, pending_id="p")
    with pytest.raises(PendingNotFound):
        admit(resolution, existing=None, pending=posted, pending_resolved=False, debit_balance=Balance())


@pytest.mark.parametrize("post", [True, False])
def test_admit_refuses_resolving_a_pending_transfer_twice(post):
    pending = reserve()
    second = resolution_of(pending, "second", post=post)
    with pytest.raises(PendingAlreadyResolved):
        admit(second, existing=None, pending=pending, pending_resolved=True, debit_balance=Balance())


@pytest.mark.parametrize(
    "resolution",
    [
        PlannedTransfer("r", ADV, HOLD, 99, kind=POST_PENDING, pending_id="lead:1:reserve:payout"),
        PlannedTransfer("r", ADV, REVENUE, 100, kind=POST_PENDING, pending_id="lead:1:reserve:payout"),
        PlannedTransfer(
            "r",
            advertiser_available(7, "EUR"),
            HOLD,
            100,
            kind=VOID_PENDING,
            pending_id="lead:1:reserve:payout",
        ),
    ],
)
def test_admit_refuses_a_resolution_that_does_not_match_its_pending_transfer(resolution):
    with pytest.raises(TransferConflict):
        admit(
            resolution, existing=None, pending=reserve(100), pending_resolved=False, debit_balance=Balance()
        )


def test_resolution_of_copies_the_pending_transfer():
    pending = reserve(250)
    post = resolution_of(pending, "lead:1:approve:payout", post=True)
    void = resolution_of(pending, "lead:1:void:payout", post=False)
    for resolution, kind in ((post, POST_PENDING), (void, VOID_PENDING)):
        assert (resolution.debit, resolution.credit, resolution.amount_minor) == (ADV, HOLD, 250)
        assert resolution.kind == kind
        assert resolution.pending_id == pending.id
    assert (post.id, void.id) == ("lead:1:approve:payout", "lead:1:void:payout")
