"""The ledger in the database: record planned transfers, read balances.

Account rows are locked in id order before their counters change, so two
transactions touching the same accounts never deadlock, and a balance check
and the write that depends on it see the same numbers. The rows a set of
transfers needs (accounts, earlier transfers, pendings) are read in a few
statements for the whole set, so recording many leads' transfers in one
transaction (validation in batches) costs about as much as recording one's.
They are written the same way: the new transfers in one statement, every changed
account's counters in one (Core, no unit of work; the locked accounts' objects
then hold the counters as written).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from billing.domain import (
    RESOLUTIONS,
    AccountRef,
    Balance,
    InsufficientFunds,
    PlannedTransfer,
    admit,
    apply_credit,
    apply_debit,
)
from billing.models import Account, Transfer
from exchange import clock
from exchange.db import update_each
from exchange.extensions import db
from exchange.metrics import LEDGER_TRANSFERS, count_on_commit

COUNTERS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
TRANSFER_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount_minor",
    "currency",
    "kind",
    "pending_id",
    "lead_id",
    "payout_id",
    "created_at",
)
INSERT_TRANSFERS = insert(Transfer.__table__)
SET_COUNTERS = update_each(Account.__table__, "id", COUNTERS)
HELD = "ledger.locked_accounts"  # in the session's info: this transaction's locked accounts by code


def account_for(ref: AccountRef) -> Account:
    """The account for ``ref``, opened on first use."""
    account = existing_account(ref)
    return account if account is not None else _open(ref)


def existing_account(ref: AccountRef) -> Account | None:
    return db.session.scalar(select(Account).where(Account.code == ref.code))


def _open(ref: AccountRef) -> Account:
    try:
        with db.session.begin_nested():
            account = Account(
                code=ref.code,
                owner=ref.owner,
                owner_id=ref.owner_id,
                purpose=ref.purpose,
                currency=ref.currency,
                bounded=ref.bounded,
                debits_pending=0,
                debits_posted=0,
                credits_pending=0,
                credits_posted=0,
            )
            db.session.add(account)
    except IntegrityError:  # another transaction opened it first
        account = db.session.scalar(select(Account).where(Account.code == ref.code))
    return account


def lock_accounts(refs: Iterable[AccountRef]) -> dict[AccountRef, Account]:
    """Open the accounts that do not exist yet (before any lock is taken), then
    lock them all in one statement, in id order. Accounts this transaction has
    locked already are not asked for again (a sale's transaction locks every account
    its reservations touch first, then records them)."""
    by_code = {ref.code: ref for ref in refs}
    held = db.session.info.setdefault(HELD, {})
    if by_code.keys() <= held.keys():
        return {ref: held[code] for code, ref in by_code.items()}
    known = set(db.session.scalars(select(Account.code).where(Account.code.in_(by_code))))
    for code in sorted(by_code.keys() - known):
        _open(by_code[code])
    rows = db.session.scalars(
        select(Account)
        .where(Account.code.in_(by_code))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    accounts = {row.code: row for row in rows}
    db.session.info.setdefault(HELD, {}).update(accounts)  # (opening one ended a savepoint)
    return {ref: accounts[code] for code, ref in by_code.items()}


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    """A transaction or savepoint ended: its locks, or what it read under them, may be gone.
    A flush's own inner transaction ending (neither the outermost nor a savepoint) ends no
    lock: the accounts stay held, and are not locked again after every flush."""
    if transaction.parent is not None and not transaction.nested:
        return
    session.info.pop(HELD, None)


def record(
    transfers: list[PlannedTransfer], *, lead_id: int | None = None, payout_id: int | None = None
) -> list[Transfer]:
    """Record transfers atomically (all of them or, on error, none: the
    caller rolls back). Already-recorded identical transfers are skipped."""
    db.session.flush()  # what the transfers refer to (a lead, a payout) first
    book = LockedBook.open(transfers)
    return book.record(transfers, lead_id=lead_id, payout_id=payout_id)


def record_each(groups: list[tuple[list[PlannedTransfer], int]]) -> list[bool]:
    """Record each lead's transfers whole, in order, or refuse them whole when a
    debit falls short (False); one lock and one flush for all of them."""
    db.session.flush()  # what the transfers refer to (the leads) first
    book = LockedBook.open([transfer for transfers, _ in groups for transfer in transfers])
    admitted = []
    for transfers, lead_id in groups:
        try:
            book.record(transfers, lead_id=lead_id, write=False)
        except InsufficientFunds:
            admitted.append(False)
        else:
            admitted.append(True)
    book.write()
    return admitted


class LockedBook:
    """The locked accounts and the recorded transfers a set of planned transfers
    refers to, loaded at once; ``record`` checks against them and keeps them current."""

    def __init__(self, accounts: dict[AccountRef, Account], rows: dict[str, Transfer], resolved: set[str]):
        self.accounts = accounts
        self.refs = {account.id: ref for ref, account in accounts.items()}
        self.rows = rows
        self.resolved = resolved
        self.unwritten: list[Transfer] = []  # recorded here, not in the database yet
        self.changed: dict[int, Balance] = {}  # by account id: counters not written yet

    @classmethod
    def open(cls, transfers: list[PlannedTransfer]) -> LockedBook:
        accounts = lock_accounts(ref for t in transfers for ref in (t.debit, t.credit))
        pending_ids = {t.pending_id for t in transfers if t.pending_id}
        wanted = {t.id for t in transfers} | pending_ids
        rows = db.session.scalars(select(Transfer).where(Transfer.id.in_(wanted))).all()
        resolved = set()
        if pending_ids:
            query = select(Transfer.pending_id).where(Transfer.pending_id.in_(pending_ids))
            resolved = set(db.session.scalars(query))
        return cls(accounts, {row.id: row for row in rows}, resolved)

    def record(
        self,
        transfers: list[PlannedTransfer],
        *,
        lead_id: int | None = None,
        payout_id: int | None = None,
        write: bool = True,
    ) -> list[Transfer]:
        """All of ``transfers`` or, if one is refused (a ``LedgerError``), none; written at
        once, or (``write`` False) with the next ``write``."""
        now = clock.now()
        balances: dict[int, Balance] = {}
        staged: dict[str, Transfer] = {}
        resolved: set[str] = set()
        recorded = []
        for planned in transfers:
            existing = staged.get(planned.id) or self.rows.get(planned.id)
            pending = staged.get(planned.pending_id) or self.rows.get(planned.pending_id)
            debit, credit = self.accounts[planned.debit], self.accounts[planned.credit]
            debit_balance = balances.get(debit.id) or self.balance(debit)
            if not admit(
                planned,
                existing=existing.planned(self.refs) if existing else None,
                pending=pending.planned(self.refs) if pending else None,
                pending_resolved=planned.pending_id in self.resolved or planned.pending_id in resolved,
                debit_balance=debit_balance,
            ):
                recorded.append(existing)
                continue
            balances[debit.id] = apply_debit(debit_balance, planned.kind, planned.amount_minor)
            balances[credit.id] = apply_credit(
                balances.get(credit.id) or self.balance(credit), planned.kind, planned.amount_minor
            )
            row = Transfer(  # (not in the session: ``write`` inserts it with Core)
                id=planned.id,
                debit_account_id=debit.id,
                credit_account_id=credit.id,
                debit_account=debit,
                credit_account=credit,
                amount_minor=planned.amount_minor,
                currency=planned.currency,
                kind=planned.kind,
                pending_id=planned.pending_id,
                lead_id=lead_id,
                payout_id=payout_id,
                created_at=now,
            )
            staged[planned.id] = row
            if planned.kind in RESOLUTIONS:
                resolved.add(planned.pending_id)
            recorded.append(row)
        self.changed.update(balances)  # every check passed: apply
        self.unwritten += staged.values()
        self.rows.update(staged)
        self.resolved |= resolved
        if write:
            self.write()
        return recorded

    def balance(self, account: Account) -> Balance:
        """The account's counters with what this book recorded and has not written yet."""
        return self.changed.get(account.id) or account.balance

    def write(self) -> None:
        """The transfers recorded and the accounts' counters, in two statements (Core: the
        accounts' objects then hold the counters as written, not as changes to flush)."""
        connection = db.session.connection()
        if self.unwritten:
            connection.execute(INSERT_TRANSFERS, [_columns(row) for row in self.unwritten])
            credited = Counter((row.kind, self.refs[row.credit_account_id]) for row in self.unwritten)
            for (kind, ref), count in credited.items():
                count_on_commit(LEDGER_TRANSFERS, (kind, f"{ref.owner}:{ref.purpose}"), count)
        if self.changed:
            rows = [
                {"key": account_id, **{f"new_{c}": getattr(balance, c) for c in COUNTERS}}
                for account_id, balance in self.changed.items()
            ]
            connection.execute(SET_COUNTERS, rows)
            for account_id, balance in self.changed.items():
                account = self.accounts[self.refs[account_id]]
                for counter in COUNTERS:
                    set_committed_value(account, counter, getattr(balance, counter))
        self.unwritten, self.changed = [], {}


def _columns(row: Transfer) -> dict:
    return {column: getattr(row, column) for column in TRANSFER_COLUMNS}


def find(transfer_id: str) -> PlannedTransfer | None:
    row = db.session.get(Transfer, transfer_id)
    return row.planned() if row else None
