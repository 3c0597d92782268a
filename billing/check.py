"""``flask billing check``: every invariant of DESIGN §5, against the database.

Each check returns the violations it found, named, so an operator knows
what broke and where to look. The ledger's own invariants are here; a feature that
puts money on the ledger adds its own with ``add_invariant`` when the app is created
(the leads' "every approved lead has exactly one charge": exchange/leads/ledger_check.py),
so billing needs to know nothing of what its transfers are for.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from billing.models import Account, Transfer
from exchange.extensions import db


def balanced_per_currency() -> list[str]:
    rows = db.session.execute(
        select(
            Account.currency,
            func.sum(Account.debits_posted),
            func.sum(Account.credits_posted),
            func.sum(Account.debits_pending),
            func.sum(Account.credits_pending),
        ).group_by(Account.currency)
    ).all()
    return [
        f"{currency}: debits {dp}+{dpe} pending, credits {cp}+{cpe} pending"
        for currency, dp, cp, dpe, cpe in rows
        if dp != cp or dpe != cpe
    ]


def no_negative_balances() -> list[str]:
    rows = db.session.execute(
        select(Account.code, Account.credits_posted - Account.debits_posted - Account.debits_pending).where(
            Account.bounded, Account.credits_posted - Account.debits_posted - Account.debits_pending < 0
        )
    ).all()
    return [f"{code} is at {available}" for code, available in rows]


def debts_never_overpaid() -> list[str]:
    """An advertiser's debt account is repaid at most what it owes (it never turns into a credit)."""
    rows = db.session.execute(
        select(Account.code, Account.credits_posted - Account.debits_posted).where(
            Account.purpose == "debt", Account.credits_posted > Account.debits_posted
        )
    ).all()
    return [f"{code} was repaid {excess} more than it owed" for code, excess in rows]


def cached_balances_match_transfers() -> list[str]:
    problems = []
    expected = _balances_from_transfers()
    for account in db.session.scalars(select(Account).order_by(Account.id)):
        cached = (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        derived = expected.get(account.id, (0, 0, 0, 0))
        if cached != derived:
            problems.append(f"{account.code} caches {cached}, its transfers give {derived}")
    return problems


def pending_resolved_at_most_once() -> list[str]:
    resolution, pending = aliased(Transfer), aliased(Transfer)
    rows = db.session.execute(
        select(resolution.id, pending.id, pending.kind)
        .join(pending, resolution.pending_id == pending.id)
        .where(
            (pending.kind != "pending")
            | (resolution.amount_minor != pending.amount_minor)
            | (resolution.debit_account_id != pending.debit_account_id)
            | (resolution.credit_account_id != pending.credit_account_id)
        )
    ).all()
    twice = db.session.execute(
        select(Transfer.pending_id, func.count())
        .where(Transfer.pending_id.is_not(None))
        .group_by(Transfer.pending_id)
        .having(func.count() > 1)
    ).all()
    return [f"{rid} does not match {pid} ({kind})" for rid, pid, kind in rows] + [
        f"{pid} resolved {n} times" for pid, n in twice
    ]


def transfers_within_one_currency() -> list[str]:
    debit, credit = aliased(Account), aliased(Account)
    rows = db.session.execute(
        select(Transfer.id)
        .join(debit, Transfer.debit_account_id == debit.id)
        .join(credit, Transfer.credit_account_id == credit.id)
        .where((debit.currency != Transfer.currency) | (credit.currency != Transfer.currency))
    ).all()
    return [f"{tid} crosses currencies" for (tid,) in rows]


INVARIANTS: dict[str, Callable[[], list[str]]] = {
    "balanced_per_currency": balanced_per_currency,
    "no_negative_balances": no_negative_balances,
    "debts_never_overpaid": debts_never_overpaid,
    "cached_balances_match_transfers": cached_balances_match_transfers,
    "pending_resolved_at_most_once": pending_resolved_at_most_once,
    "transfers_within_one_currency": transfers_within_one_currency,
}


_ADDED = "billing.invariants"


def add_invariant(app: Flask, name: str, check: Callable[[], list[str]]) -> None:
    """Run ``check`` with the ledger's own invariants in ``app`` (a feature's money rules)."""
    added = app.extensions.setdefault(_ADDED, {})
    if name in INVARIANTS or name in added:
        raise ValueError(f"an invariant named {name!r} is checked already")
    added[name] = check


def invariants() -> dict[str, Callable[[], list[str]]]:
    """The ledger's invariants, then those the app's features added."""
    return {**INVARIANTS, **current_app.extensions.get(_ADDED, {})}


def run_checks() -> dict[str, list[str]]:
    """Every invariant's violations (an empty list where it holds)."""
    return {name: check() for name, check in invariants().items()}


def _balances_from_transfers() -> dict[int, tuple[int, int, int, int]]:
    """(debits_pending, debits_posted, credits_pending, credits_posted) per
    account, summed by the database from the transfers alone."""
    posted = func.sum(case((Transfer.kind.in_(("posted", "post_pending")), Transfer.amount_minor), else_=0))
    pending = func.sum(
        case(
            (Transfer.kind == "pending", Transfer.amount_minor),
            (Transfer.kind.in_(("post_pending", "void_pending")), -Transfer.amount_minor),
            else_=0,
        )
    )
    totals: dict[int, list[int]] = {}
    for side, column in ((0, Transfer.debit_account_id), (2, Transfer.credit_account_id)):
        for account_id, pending_sum, posted_sum in db.session.execute(
            select(column, pending, posted).group_by(column)
        ):
            row = totals.setdefault(account_id, [0, 0, 0, 0])
            row[side], row[side + 1] = int(pending_sum), int(posted_sum)
    return {account_id: tuple(values) for account_id, values in totals.items()}
