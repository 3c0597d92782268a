"""Scheduled payouts: on its schedule's day, a webmaster's whole available balance in
each currency is requested as a payout when it reaches max(minimum, threshold).

One payout per webmaster, currency and period (``billing.payouts.domain``): the payout
carries its period's ``schedule_key``, unique in the database, so a second run, or two
runs at once, make no second payout. Services flush; callers commit (one payout each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from billing import ledger
from billing.domain import platform, webmaster_available
from billing.models import Account
from billing.payouts.domain import ON_DEMAND, is_due, schedule_key, scheduled_amount
from billing.payouts.models import Payout, PayoutSettings
from billing.payouts.services import payout_minimum, request_payout
from billing.payouts.settings import schedule_of
from exchange.extensions import db


@dataclass
class ScheduledRun:
    requested: list[int] = field(default_factory=list)  # payout ids
    below_threshold: int = 0
    already_paid_out: int = 0

    def __str__(self) -> str:
        return (
            f"requested={len(self.requested)} below_threshold={self.below_threshold} "
            f"already_paid_out={self.already_paid_out}"
        )


def due_balances(today: date) -> list[tuple[int, str]]:
    """(webmaster, currency) pairs whose schedule is due ``today`` and that hold money."""
    available = Account.credits_posted - Account.debits_posted - Account.debits_pending
    rows = db.session.execute(
        select(PayoutSettings, Account.currency)
        .join(Account, Account.owner_id == PayoutSettings.webmaster_id)
        .where(
            PayoutSettings.schedule != ON_DEMAND,
            Account.owner == "webmaster",
            Account.purpose == "available",
            available > 0,
        )
        .order_by(PayoutSettings.webmaster_id, Account.currency)
    ).all()
    return [
        (settings.webmaster_id, currency)
        for settings, currency in rows
        if is_due(schedule_of(settings), today)
    ]


def make_scheduled_payout(webmaster_id: int, currency: str, today: date) -> Payout | str:
    """The period's payout of the whole available balance, or why there is none
    (``"already"``, ``"below_threshold"``, ``"not_due"``)."""
    settings = db.session.get(PayoutSettings, webmaster_id)
    if settings is None or not is_due(schedule_of(settings), today):
        return "not_due"
    ref = webmaster_available(webmaster_id, currency)
    # Both accounts the payout touches, in one statement (the ledger's lock order): a
    # second run waits here, then sees the key.
    account = ledger.lock_accounts([ref, platform("cash_out", currency)])[ref]
    key = schedule_key(webmaster_id, currency, schedule_of(settings), today)
    if db.session.scalar(select(Payout.id).where(Payout.schedule_key == key)) is not None:
        return "already"
    threshold = (settings.thresholds_minor or {}).get(currency)
    amount = scheduled_amount(account.balance.available, payout_minimum(currency), threshold)
    if not amount:
        return "below_threshold"
    return request_payout(webmaster_id, currency, amount, schedule_key=key)
