"""An in-memory ledger with the same rules as the database one. Pure.

It exists so that the rules can be exercised by thousands of random
sequences (tests/unit/test_ledger_properties.py) without a database, and
so that the invariants of DESIGN §5 have one plain definition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from billing.domain import (
    RESOLUTIONS,
    AccountRef,
    Balance,
    PlannedTransfer,
    admit,
    apply_credit,
    apply_debit,
)


@dataclass
class Book:
    balances: dict[AccountRef, Balance] = field(default_factory=dict)
    transfers: dict[str, PlannedTransfer] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)

    def balance(self, account: AccountRef) -> Balance:
        return self.balances.get(account, Balance())

    def record(self, transfer: PlannedTransfer) -> bool:
        """Record a transfer; False when it was already recorded."""
        pending = self.transfers.get(transfer.pending_id) if transfer.pending_id else None
        if not admit(
            transfer,
            existing=self.transfers.get(transfer.id),
            pending=pending,
            pending_resolved=transfer.pending_id in self.resolved,
            debit_balance=self.balance(transfer.debit),
        ):
            return False
        self.balances[transfer.debit] = apply_debit(
            self.balance(transfer.debit), transfer.kind, transfer.amount_minor
        )
        self.balances[transfer.credit] = apply_credit(
            self.balance(transfer.credit), transfer.kind, transfer.amount_minor
        )
        self.transfers[transfer.id] = transfer
        if transfer.kind in RESOLUTIONS:
            self.resolved.add(transfer.pending_id)
        return True

    def record_all(self, transfers: list[PlannedTransfer]) -> None:
        """All of them or, if one is refused, none (as a database transaction)."""
        saved = (dict(self.balances), dict(self.transfers), set(self.resolved))
        try:
            for transfer in transfers:
                self.record(transfer)
        except Exception:
            self.balances, self.transfers, self.resolved = saved
            raise

    def violations(self) -> list[str]:
        """Every broken invariant, named; empty when the book is sound."""
        problems = []
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for account, bal in self.balances.items():
            row = totals[account.currency]
            row[0] += bal.debits_posted
            row[1] += bal.credits_posted
            row[2] += bal.debits_pending
            row[3] += bal.credits_pending
            if account.bounded and bal.available < 0:
                problems.append(f"negative_balance: {account.code} at {bal.available}")
        for currency, (dp, cp, dpe, cpe) in sorted(totals.items()):
            if dp != cp or dpe != cpe:
                problems.append(f"unbalanced: {currency} debits {dp}/{dpe} credits {cp}/{cpe}")
        return problems
