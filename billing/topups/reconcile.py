"""``flask billing reconcile``: Stripe's balance transactions against the ledger's ``cash_in``.

Both sides are reduced to *movements*: money in (+) or out (-) of the platform through
Stripe, keyed by what Stripe knows them by: the PaymentIntent a top-up was charged
through, the charge whose refunds are summed, the dispute. Manual credits are not
Stripe's and are left out. Every key whose sums differ is named; equal sums mean the
ledger credited exactly what Stripe collected, less what it gave back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from billing.models import Account, Transfer
from exchange.extensions import db


@dataclass(frozen=True)
class Movement:
    key: str  # "charge pi_...", "refunds of ch_...", "dispute dp_..."
    currency: str
    amount_minor: int  # + into the platform, - out of it


def compare(stripe: Iterable[Movement], ledger: Iterable[Movement]) -> list[str]:
    """Every key and currency whose two sums differ, named with both sums. Pure."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for side, movements in ((0, stripe), (1, ledger)):
        for movement in movements:
            sums[(movement.key, movement.currency)][side] += movement.amount_minor
    return [
        f"{key}: Stripe {at_stripe} {currency}, ledger {in_ledger} {currency}"
        for (key, currency), (at_stripe, in_ledger) in sorted(sums.items())
        if at_stripe != in_ledger
    ]


def ledger_key(transfer_id: str) -> str | None:
    """What Stripe knows a ``cash_in`` transfer by; None for money that did not come
    through Stripe (manual credits). Pure."""
    parts = transfer_id.split(":")
    if parts[0] == "topup" and len(parts) == 2 and parts[1].startswith("pi_"):
        return f"charge {parts[1]}"
    if parts[:2] == ["topup", "dispute"]:  # topup:dispute:<dp>:reinstated
        return f"dispute {parts[2]}"
    if parts[0] == "refund":  # refund:<charge>:<refunded in all>[:debt]
        return f"refunds of {parts[1]}"
    if parts[0] == "dispute":  # dispute:<dp>[:debt]
        return f"dispute {parts[1]}"
    return None


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
    from billing.topups import gateway as stripe_gateway

    return compare(stripe_gateway.balance_movements(), ledger_movements())
