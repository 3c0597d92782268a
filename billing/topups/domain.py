"""Reconciliation as plain Python: movements through Stripe, and where the two sides differ.

Both sides (Stripe's balance transactions, the ledger's ``cash_in``) are reduced to
*movements*, keyed by what Stripe knows them by (billing/topups/reconcile.py reads them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


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
