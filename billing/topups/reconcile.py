"""``flask billing reconcile``: Stripe's balance transactions against the ledger's ``cash_in``.

Both sides are reduced to *movements*: money in (+) or out (-) of the platform through
Stripe, keyed by what Stripe knows them by: the PaymentIntent a top-up was charged
through, the charge whose refunds are summed, the dispute. Manual credits are not
Stripe's and are left out. Every key whose sums differ is named; equal sums mean the
ledger credited exactly what Stripe collected, less what it gave back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from billing.models import Account, Transfer
from billing.topups import gateway as stripe_gateway
from billing.topups.domain import Movement, compare, ledger_key
from exchange.extensions import db


def ledger_movements() -> list[Movement]:
    cash_in = aliased(Account)
    movements = []
    for side, column in ((1, Transfer.debit_account_id), (-1, Transfer.credit_account_id)):
        rows = db.session.execute(
            select(Transfer.id, Transfer.currency, Transfer.amount_minor)
            .join(cash_in, column == cash_in.id)
            .where(cash_in.owner == "platform", cash_in.purpose == "cash_in")
        )
        for transfer_id, currency, amount in rows:
            key = ledger_key(transfer_id)
            if key is not None:
                movements.append(Movement(key, currency, side * amount))
    return movements


def reconcile() -> list[str]:
    return compare(stripe_gateway.balance_movements(), ledger_movements())
