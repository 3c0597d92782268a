"""Statements: one account's transfers in a month with running balances (docs/money.md).

Read-only; computed from the ledger's own rows (accounts, transfers), so a
statement always agrees with the balances. The opening balance is the sum of
every transfer before the month; the closing one of every transfer before its
end, so one month's closing is the next month's opening by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from billing.domain import PURPOSES, AccountRef, Balance, apply_credit, apply_debit
from billing.models import Account, Transfer
from billing.statements.domain import STAGES, UNKNOWN_STAGE, Entry, Line, Month, running_lines
from exchange.accounts.models import User
from exchange.errors import Forbidden, Invalid, NotFound
from exchange.extensions import db

STREAM_BATCH = 500


@dataclass(frozen=True)
class StatementAccount:
    """The account a statement is of; ``id`` is None while it has never been used."""

    id: int | None
    code: str
    owner: str
    purpose: str
    currency: str


@dataclass(frozen=True)
class Statement:
    account: StatementAccount
    month: Month
    opening: Balance
    closing: Balance
    total: int  # lines in the month
    lines: list[Line]  # the page asked for
    page: int
    per_page: int


def statement_account(
    user: User, *, purpose: str | None, currency: str | None, code: str | None
) -> StatementAccount:
    """The caller's own account of ``purpose`` and ``currency``; for an admin, the one
    named by ``code``. Nobody else's account can be reached from here."""
    if user.role == "admin":
        if not code:
            raise Invalid("Name the account by its code.", fields={"code": ["Required for admins."]})
        return _by_code(code)
    if code:
        raise Forbidden("Only admins ask for an account by code.", code="wrong_role")
    if user.role not in ("advertiser", "webmaster"):
        raise Forbidden("Statements are for advertisers, webmasters and admins.", code="wrong_role")
    if not currency:
        raise Invalid("Which currency?", fields={"currency": ["Required."]})
    purpose = purpose or "available"
    if purpose not in PURPOSES[user.role]:
        raise Invalid(
            f"You have no {purpose} account.",
            fields={"account": [f"One of: {', '.join(PURPOSES[user.role])}."]},
        )
    ref = AccountRef(user.role, user.id, purpose, currency)
    row = db.session.scalar(select(Account).where(Account.code == ref.code))
    return _view(row) if row else StatementAccount(None, ref.code, ref.owner, ref.purpose, ref.currency)


def _by_code(code: str) -> StatementAccount:
    row = db.session.scalar(select(Account).where(Account.code == code))
    if row is None:
        raise NotFound("No account with this code.")
    return _view(row)


def _view(row: Account) -> StatementAccount:
    return StatementAccount(row.id, row.code, row.owner, row.purpose, row.currency)


def balance_before(account_id: int | None, moment: datetime) -> Balance:
    """The account's four counters as they stood just before ``moment``."""
    balance = Balance()
    if account_id is None:
        return balance
    outgoing = Transfer.debit_account_id == account_id
    rows = db.session.execute(
        select(Transfer.kind, outgoing.label("outgoing"), func.sum(Transfer.amount_minor))
        .where(_touches(account_id), Transfer.created_at < moment)
        .group_by(Transfer.kind, outgoing)
    )
    for kind, is_outgoing, amount in rows:
        apply = apply_debit if is_outgoing else apply_credit
        balance = apply(balance, kind, int(amount))
    return balance


def month_entries(account_id: int | None, month: Month) -> Iterator[Entry]:
    """The month's transfers touching the account, in time order, streamed."""
    if account_id is None:
        return
    query = _entries_query(account_id, month).execution_options(yield_per=STREAM_BATCH)
    with closing(db.session.execute(query)) as rows:  # closed too when the reader stops early
        for row in rows:
            outgoing = row.debit_account_id == account_id
            yield Entry(
                at=row.created_at,
                transfer_id=row.id,
                kind=row.kind,
                amount_minor=row.amount_minor,
                direction="out" if outgoing else "in",
                counterparty=row.credit_owner if outgoing else row.debit_owner,
                lead_id=row.lead_id,
                payout_id=row.payout_id,
                pending_id=row.pending_id,
            )


def _entries_query(account_id: int, month: Month) -> Select:
    debit, credit = aliased(Account), aliased(Account)
    stage = case(*((Transfer.id.like(pattern), rank) for pattern, rank in STAGES), else_=UNKNOWN_STAGE)
    return (
        select(
            Transfer.created_at,
            Transfer.id,
            Transfer.kind,
            Transfer.amount_minor,
            Transfer.debit_account_id,
            Transfer.lead_id,
            Transfer.payout_id,
            Transfer.pending_id,
            debit.owner.label("debit_owner"),
            credit.owner.label("credit_owner"),
        )
        .join(debit, debit.id == Transfer.debit_account_id)
        .join(credit, credit.id == Transfer.credit_account_id)
        .where(_touches(account_id), *_within(month))
        .order_by(Transfer.created_at, stage, Transfer.id)
    )


def _touches(account_id: int):
    return or_(Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id)


def _within(month: Month) -> tuple:
    return Transfer.created_at >= month.start, Transfer.created_at < month.end


def count_entries(account_id: int | None, month: Month) -> int:
    if account_id is None:
        return 0
    query = select(func.count()).select_from(Transfer).where(_touches(account_id), *_within(month))
    return db.session.scalar(query)


def statement_of(account: StatementAccount, month: Month, *, page: int = 1, per_page: int = 500) -> Statement:
    """The month's opening and closing balances and one page of its lines; the running
    balances on every page count from the start of the month."""
    opening = balance_before(account.id, month.start)
    skip = (page - 1) * per_page
    with closing(month_entries(account.id, month)) as entries:
        lines = [line for line, _ in islice(running_lines(opening, entries), skip, skip + per_page)]
    return Statement(
        account=account,
        month=month,
        opening=opening,
        closing=balance_before(account.id, month.end),
        total=count_entries(account.id, month),
        lines=lines,
        page=page,
        per_page=per_page,
    )


def all_lines(account: StatementAccount, month: Month) -> tuple[Balance, Iterator[tuple[Line, Balance]]]:
    """The opening balance and every line of the month (for the CSV), streamed."""
    opening = balance_before(account.id, month.start)
    return opening, running_lines(opening, month_entries(account.id, month))


def currencies_of(user_id: int) -> list[str]:
    """The currencies the user has accounts in, for the page's picker."""
    query = select(Account.currency).where(Account.owner_id == user_id).distinct().order_by(Account.currency)
    return list(db.session.scalars(query))
