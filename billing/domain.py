"""The ledger's rules, as plain Python (no framework, no database).

Transfers move an amount between two accounts of one currency. A transfer's
id is its idempotency key. A ``pending`` transfer reserves the amount; a
later ``post_pending`` or ``void_pending`` transfer resolves it, once.
Balances are four counters per account, as in TigerBeetle:

    available = credits_posted - debits_posted - debits_pending

and a *bounded* account (every one but the platform's ``cash_in`` and an
advertiser's ``debt``) never lets its debits (posted plus pending) exceed its
posted credits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from exchange.domain_errors import DomainError

POSTED = "posted"
PENDING = "pending"
POST_PENDING = "post_pending"
VOID_PENDING = "void_pending"
KINDS = (POSTED, PENDING, POST_PENDING, VOID_PENDING)
RESOLUTIONS = (POST_PENDING, VOID_PENDING)

PURPOSES = {
    "advertiser": ("available", "debt"),
    "webmaster": ("hold", "available"),
    "platform": ("revenue", "cash_in", "cash_out"),
}
# cash_in goes negative by what entered; an advertiser's debt by what it owes (money
# Stripe took back, by a refund or a dispute, after it was already spent).
UNBOUNDED_PURPOSES = ("cash_in", "debt")


class LedgerError(DomainError):
    code = "ledger_error"


class TransferConflict(LedgerError):
    code = "transfer_conflict"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"


class PendingNotFound(LedgerError):
    code = "pending_not_found"


class PendingAlreadyResolved(LedgerError):
    code = "pending_already_resolved"


@dataclass(frozen=True)
class AccountRef:
    owner: str  # advertiser, webmaster or platform
    owner_id: int | None
    purpose: str
    currency: str

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES.get(self.owner, ()):
            raise ValueError(f"{self.owner} has no {self.purpose} account")
        if (self.owner == "platform") != (self.owner_id is None):
            raise ValueError("platform accounts have no owner id; others must")

    @property
    def code(self) -> str:
        owner = self.owner if self.owner_id is None else f"{self.owner}:{self.owner_id}"
        return f"{owner}:{self.purpose}:{self.currency}"

    @property
    def bounded(self) -> bool:
        return self.purpose not in UNBOUNDED_PURPOSES


def advertiser_available(advertiser_id: int, currency: str) -> AccountRef:
    return AccountRef("advertiser", advertiser_id, "available", currency)


def advertiser_debt(advertiser_id: int, currency: str) -> AccountRef:
    return AccountRef("advertiser", advertiser_id, "debt", currency)


def webmaster_hold(webmaster_id: int, currency: str) -> AccountRef:
    return AccountRef("webmaster", webmaster_id, "hold", currency)


def webmaster_available(webmaster_id: int, currency: str) -> AccountRef:
    return AccountRef("webmaster", webmaster_id, "available", currency)


def platform(purpose: str, currency: str) -> AccountRef:
    return AccountRef("platform", None, purpose, currency)


@dataclass(frozen=True)
class PlannedTransfer:
    id: str
    debit: AccountRef
    credit: AccountRef
    amount_minor: int
    kind: str = POSTED
    pending_id: str | None = None

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise ValueError("a transfer moves a positive amount")
        if self.debit == self.credit:
            raise ValueError("a transfer needs two different accounts")
        if self.debit.currency != self.credit.currency:
            raise ValueError("no transfer between currencies")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if (self.kind in RESOLUTIONS) != (self.pending_id is not None):
            raise ValueError("post and void transfers, and only they, name a pending transfer")

    @property
    def currency(self) -> str:
        return self.debit.currency


@dataclass(frozen=True)
class Balance:
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def available(self) -> int:
        """What the owner may still spend: posted credits less every debit."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def posted(self) -> int:
        return self.credits_posted - self.debits_posted


def apply_debit(balance: Balance, kind: str, amount: int) -> Balance:
    if kind == POSTED:
        return replace(balance, debits_posted=balance.debits_posted + amount)
    if kind == PENDING:
        return replace(balance, debits_pending=balance.debits_pending + amount)
    if kind == POST_PENDING:
        return replace(
            balance,
            debits_pending=balance.debits_pending - amount,
            debits_posted=balance.debits_posted + amount,
        )
    return replace(balance, debits_pending=balance.debits_pending - amount)


def apply_credit(balance: Balance, kind: str, amount: int) -> Balance:
    if kind == POSTED:
        return replace(balance, credits_posted=balance.credits_posted + amount)
    if kind == PENDING:
        return replace(balance, credits_pending=balance.credits_pending + amount)
    if kind == POST_PENDING:
        return replace(
            balance,
            credits_pending=balance.credits_pending - amount,
            credits_posted=balance.credits_posted + amount,
        )
    return replace(balance, credits_pending=balance.credits_pending - amount)


def admit(
    transfer: PlannedTransfer,
    *,
    existing: PlannedTransfer | None,
    pending: PlannedTransfer | None,
    pending_resolved: bool,
    debit_balance: Balance,
) -> bool:
    """Decide whether ``transfer`` may be recorded.

    Returns False when the very same transfer is already recorded (a no-op),
    True when it should be recorded now, and raises a ``LedgerError`` when it
    must not be.
    """
    if existing is not None:
        if existing != transfer:
            raise TransferConflict(f"transfer {transfer.id} exists with other content")
        return False
    if transfer.kind in RESOLUTIONS:
        if pending is None or pending.kind != PENDING:
            raise PendingNotFound(f"no pending transfer {transfer.pending_id}")
        if pending_resolved:
            raise PendingAlreadyResolved(f"pending transfer {pending.id} is already resolved")
        if (pending.debit, pending.credit, pending.amount_minor) != (
            transfer.debit,
            transfer.credit,
            transfer.amount_minor,
        ):
            raise TransferConflict(f"{transfer.id} does not match pending {pending.id}")
        return True
    after = apply_debit(debit_balance, transfer.kind, transfer.amount_minor)
    if transfer.debit.bounded and after.available < 0:
        raise InsufficientFunds(
            f"{transfer.debit.code} has {debit_balance.available}, needs {transfer.amount_minor}"
        )
    return True


def resolution_of(pending: PlannedTransfer, transfer_id: str, *, post: bool) -> PlannedTransfer:
    return PlannedTransfer(
        id=transfer_id,
        debit=pending.debit,
        credit=pending.credit,
        amount_minor=pending.amount_minor,
        kind=POST_PENDING if post else VOID_PENDING,
        pending_id=pending.id,
    )
