"""The ledger in the database: idempotent records, resolved-once pendings, append-only tables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from billing import ledger
from billing.domain import (
    PendingAlreadyResolved,
    PlannedTransfer,
    TransferConflict,
    advertiser_available,
    platform,
    resolution_of,
    webmaster_hold,
)
from billing.models import Account, Transfer
from billing.plans import topup
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.models import LeadEvent
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import account, available, count, submit_and_validate


def rows_with_id(transfer_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.id == transfer_id))


@pytest.fixture
def advertiser(ctx):
    return make_user("advertiser")


@pytest.fixture
def reservation(advertiser) -> PlannedTransfer:
    """A recorded pending transfer of 300 from a funded advertiser to a webmaster's hold."""
    webmaster = make_user("webmaster")
    ledger.record(topup("ledger-test", advertiser.id, "USD", 1000))
    pending = PlannedTransfer(
        id="test:reserve",
        debit=advertiser_available(advertiser.id, "USD"),
        credit=webmaster_hold(webmaster.id, "USD"),
        amount_minor=300,
        kind="pending",
    )
    ledger.record([pending])
    commit()
    return pending


def test_recording_the_same_planned_transfer_twice_is_a_no_op(advertiser):
    planned = topup("wire-1", advertiser.id, "USD", 2500)

    first = ledger.record(planned)
    second = ledger.record(planned)
    commit()

    assert rows_with_id("topup:wire-1") == 1
    assert first[0].id == second[0].id == "topup:wire-1"
    assert available(advertiser_available(advertiser.id, "USD")) == 2500
    assert account(platform("cash_in", "USD")).balance.debits_posted >= 2500


def test_recording_an_id_again_with_other_content_is_a_conflict(advertiser):
    ledger.record(topup("wire-1", advertiser.id, "USD", 2500))
    commit()

    with pytest.raises(TransferConflict):
        ledger.record(topup("wire-1", advertiser.id, "USD", 9999))

    assert rows_with_id("topup:wire-1") == 1
    assert db.session.get(Transfer, "topup:wire-1").amount_minor == 2500
    assert available(advertiser_available(advertiser.id, "USD")) == 2500


def test_a_pending_transfer_resolved_a_second_time_is_refused(reservation, advertiser):
    ledger.record([resolution_of(reservation, "test:post", post=True)])
    commit()

    with pytest.raises(PendingAlreadyResolved):
        ledger.record([resolution_of(reservation, "test:void", post=False)])
    with pytest.raises(PendingAlreadyResolved):
        ledger.record([resolution_of(reservation, "test:post-again", post=True)])

    assert db.session.get(Transfer, "test:void") is None
    assert db.session.get(Transfer, "test:post-again") is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.pending_id == "test:reserve")
        )
        == 1
    )
    advertiser_account = account(advertiser_available(advertiser.id, "USD"))
    assert (advertiser_account.debits_pending, advertiser_account.debits_posted) == (0, 300)


def test_resolving_a_pending_transfer_with_the_same_resolution_again_is_a_no_op(reservation):
    resolution = resolution_of(reservation, "test:post", post=True)
    ledger.record([resolution])
    ledger.record([resolution])
    commit()

    assert rows_with_id("test:post") == 1


def reserve_leg(transfer_id: str, advertiser, webmaster, amount_minor: int) -> PlannedTransfer:
    return PlannedTransfer(
        id=transfer_id,
        debit=advertiser_available(advertiser.id, "USD"),
        credit=webmaster_hold(webmaster.id, "USD"),
        amount_minor=amount_minor,
        kind="pending",
    )


def test_record_each_refuses_a_group_the_balance_cannot_cover_whole_and_goes_on_with_the_next(advertiser):
    webmaster = make_user("webmaster")
    ledger.record(topup("wire-1", advertiser.id, "USD", 1000))
    groups = [
        (
            [reserve_leg("a:1", advertiser, webmaster, 400), reserve_leg("a:2", advertiser, webmaster, 200)],
            None,
        ),
        (
            [reserve_leg("b:1", advertiser, webmaster, 300), reserve_leg("b:2", advertiser, webmaster, 300)],
            None,
        ),
        ([reserve_leg("c:1", advertiser, webmaster, 350)], None),
    ]

    assert ledger.record_each(groups) == [True, False, True]
    commit()

    assert rows_with_id("b:1") == rows_with_id("b:2") == 0  # the refused group: not its first leg either
    assert rows_with_id("a:1") == rows_with_id("a:2") == rows_with_id("c:1") == 1
    assert available(advertiser_available(advertiser.id, "USD")) == 1000 - 600 - 350
    assert account(webmaster_hold(webmaster.id, "USD")).balance.credits_pending == 950


def test_record_each_sees_the_transfers_of_the_groups_before_it(advertiser):
    webmaster = make_user("webmaster")
    ledger.record(topup("wire-1", advertiser.id, "USD", 1000))
    leg = reserve_leg("a:1", advertiser, webmaster, 400)

    assert ledger.record_each(
        [([leg], None), ([leg], None), ([resolution_of(leg, "a:post", post=True)], None)]
    ) == [
        True,
        True,
        True,
    ]
    commit()

    assert rows_with_id("a:1") == rows_with_id("a:post") == 1  # the second group was the same transfer again
    assert available(advertiser_available(advertiser.id, "USD")) == 600


@pytest.fixture
def lead_with_history(ctx):
    """A lead accepted into pending: two transfers and two lead events."""
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    make_join(webmaster, offer)
    return submit_and_validate(webmaster, offer, lead_fields(1))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transfers SET amount_minor = amount_minor + 1 WHERE lead_id = :lead_id",
        "DELETE FROM transfers WHERE lead_id = :lead_id",
        "UPDATE lead_events SET reason = 'rewritten' WHERE lead_id = :lead_id",
        "DELETE FROM lead_events WHERE lead_id = :lead_id",
    ],
    ids=["update-transfers", "delete-transfers", "update-lead-events", "delete-lead-events"],
)
def test_the_database_refuses_to_change_the_append_only_tables(lead_with_history, statement):
    lead_id = lead_with_history.id
    transfers_before = sorted(
        db.session.execute(
            select(Transfer.id, Transfer.amount_minor).where(Transfer.lead_id == lead_id)
        ).all()
    )
    events_before = count(LeadEvent)
    assert len(transfers_before) == 2 and events_before >= 2

    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement), {"lead_id": lead_id})

    db.session.expire_all()
    assert (
        sorted(
            db.session.execute(
                select(Transfer.id, Transfer.amount_minor).where(Transfer.lead_id == lead_id)
            ).all()
        )
        == transfers_before
    )
    assert count(LeadEvent) == events_before
    assert (
        db.session.scalar(select(func.count()).select_from(LeadEvent).where(LeadEvent.reason == "rewritten"))
        == 0
    )


def test_the_account_check_refuses_a_negative_bounded_balance_written_directly(advertiser):
    fund(advertiser, 1000)
    code = advertiser_available(advertiser.id, "USD").code

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text("UPDATE accounts SET debits_posted = credits_posted + 1 WHERE code = :code"), {"code": code}
        )

    db.session.expire_all()
    row = db.session.scalar(select(Account).where(Account.code == code))
    assert (row.credits_posted, row.debits_posted) == (1000, 0)


def test_the_unbounded_cash_in_account_may_go_below_zero(advertiser):
    """The control for the test above: the CHECK is about bounded accounts only."""
    fund(advertiser, 1000)
    cash_in = account(platform("cash_in", "USD"))
    assert cash_in.bounded is False
    assert cash_in.balance.available < 0

    with db.session.begin_nested():
        db.session.execute(
            text("UPDATE accounts SET debits_posted = debits_posted + 1 WHERE code = :code"),
            {"code": cash_in.code},
        )


class Statements:
    """Counts the statements sent to the database while it is open."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __enter__(self):
        from sqlalchemy import event

        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(db.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args) -> None:
        self.sent.append(statement)


def test_accounts_a_transaction_locked_are_not_asked_for_again_until_it_ends(advertiser):
    fund(advertiser, 1000)
    refs = [advertiser_available(advertiser.id, "USD"), platform("revenue", "USD")]
    first = ledger.lock_accounts(refs)
    with Statements() as again:
        second = ledger.lock_accounts(refs[:1])
    assert again.sent == [] and second[refs[0]] is first[refs[0]]
    commit()  # the locks are gone with the transaction: the next call takes them again

    with Statements() as after_commit:
        ledger.lock_accounts(refs[:1])
    assert after_commit.sent

    with db.session.begin_nested():
        ledger.lock_accounts(refs)
    with Statements() as after_savepoint:  # a savepoint's end may have taken its locks along
        ledger.lock_accounts(refs)
    assert after_savepoint.sent
