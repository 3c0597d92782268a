"""The ledger in the database: record planned transfers, read balances.

Account rows are locked in id order before their counters change, so two
transactions touching the same accounts never deadlock, and a balance check
and the write that depends on it see the same numbers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing.domain import AccountRef, PlannedTransfer, admit, apply_credit, apply_debit
from billing.models import Account, Transfer
from exchange.extensions import db


def account_for(ref: AccountRef) -> Account:
    """The account for ``ref``, opened on first use."""
    account = db.session.scalar(select(Account).where(Account.code == ref.code))
    if account is not None:
        return account
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


def lock_accounts(refs: list[AccountRef]) -> dict[AccountRef, Account]:
    ids = sorted({account_for(ref).id for ref in refs})
    rows = db.session.scalars(
        select(Account)
        .where(Account.id.in_(ids))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_code = {row.code: row for row in rows}
    return {ref: by_code[ref.code] for ref in refs}


def record(
    transfers: list[PlannedTransfer], *, lead_id: int | None = None, payout_id: int | None = None
) -> list[Transfer]:
    """Record transfers atomically (all of them or, on error, none: the
    caller rolls back). Already-recorded identical transfers are skipped."""
    accounts = lock_accounts([ref for t in transfers for ref in (t.debit, t.credit)])
    recorded = []
    for planned in transfers:
        existing = db.session.get(Transfer, planned.id)
        pending = db.session.get(Transfer, planned.pending_id) if planned.pending_id else None
        resolved = planned.pending_id is not None and db.session.scalar(
            select(Transfer.id).where(Transfer.pending_id == planned.pending_id)
        )
        debit, credit = accounts[planned.debit], accounts[planned.credit]
        if not admit(
            planned,
            existing=existing.planned() if existing else None,
            pending=pending.planned() if pending else None,
            pending_resolved=bool(resolved),
            debit_balance=debit.balance,
        ):
            recorded.append(existing)
            continue
        debit.balance = apply_debit(debit.balance, planned.kind, planned.amount_minor)
        credit.balance = apply_credit(credit.balance, planned.kind, planned.amount_minor)
        row = Transfer(
            id=planned.id,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount_minor=planned.amount_minor,
            currency=planned.currency,
            kind=planned.kind,
            pending_id=planned.pending_id,
            lead_id=lead_id,
            payout_id=payout_id,
        )
        db.session.add(row)
        db.session.flush()
        recorded.append(row)
    return recorded


def find(transfer_id: str) -> PlannedTransfer | None:
    row = db.session.get(Transfer, transfer_id)
    return row.planned() if row else None
