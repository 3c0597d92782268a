"""Which transfers each money event makes (DESIGN §5, "The flows"). Pure.

Every transfer id is derived from the event, so doing an event twice plans
the same transfers and the ledger records them once.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.domain import (
    PENDING,
    PlannedTransfer,
    advertiser_available,
    advertiser_debt,
    platform,
    resolution_of,
    webmaster_available,
    webmaster_hold,
)


@dataclass(frozen=True)
class LeadPrice:
    """What a lead costs, fixed when it is accepted; or one sale of an exchange lead
    (``sale_id``), whose transfers are named after the sale and refer to its lead."""

    lead_id: int
    advertiser_id: int
    webmaster_id: int
    currency: str
    rate_minor: int  # the advertiser pays
    payout_minor: int  # the webmaster earns
    # A lead rejected, then reinstated by an appeal, is reserved a second time: that
    # reservation and its approval have ids of their own (``lead:N:reinstated:...``).
    reinstated: bool = False
    sale_id: int | None = None

    def __post_init__(self) -> None:
        if self.payout_minor <= 0 or self.rate_minor < self.payout_minor:
            raise ValueError("a lead needs 0 < payout <= rate")

    @property
    def reference(self) -> str:
        return f"sale:{self.sale_id}" if self.sale_id is not None else f"lead:{self.lead_id}"

    @property
    def reservation_reference(self) -> str:
        return f"{self.reference}:reinstated" if self.reinstated else self.reference

    @property
    def margin_minor(self) -> int:
        return self.rate_minor - self.payout_minor


def topup(reference: str, advertiser_id: int, currency: str, amount_minor: int) -> list[PlannedTransfer]:
    return [
        PlannedTransfer(
            id=f"topup:{reference}",
            debit=platform("cash_in", currency),
            credit=advertiser_available(advertiser_id, currency),
            amount_minor=amount_minor,
        )
    ]


def take_back(
    reference: str, advertiser_id: int, currency: str, amount_minor: int, free_minor: int
) -> list[PlannedTransfer]:
    """Money Stripe returned to the card holder (a refund, a dispute): from the advertiser's
    free balance first, the rest as debt, since no available balance may go below zero.
    Reservations already made stay whole: the leads they cover were promised that money."""
    from_free = min(amount_minor, max(free_minor, 0))
    legs = []
    if from_free:
        legs.append(
            PlannedTransfer(
                id=reference,
                debit=advertiser_available(advertiser_id, currency),
                credit=platform("cash_in", currency),
                amount_minor=from_free,
            )
        )
    if amount_minor > from_free:
        legs.append(
            PlannedTransfer(
                id=f"{reference}:debt",
                debit=advertiser_debt(advertiser_id, currency),
                credit=platform("cash_in", currency),
                amount_minor=amount_minor - from_free,
            )
        )
    return legs


def debt_repayment(
    reference: str, advertiser_id: int, currency: str, owed_minor: int, free_minor: int
) -> list[PlannedTransfer]:
    """Money that arrived pays what the advertiser owes first, as far as it goes."""
    amount = min(owed_minor, max(free_minor, 0))
    if amount <= 0:
        return []
    return [
        PlannedTransfer(
            id=f"debt-repayment:{reference}",
            debit=advertiser_available(advertiser_id, currency),
            credit=advertiser_debt(advertiser_id, currency),
            amount_minor=amount,
        )
    ]


def lead_reservation(price: LeadPrice) -> list[PlannedTransfer]:
    """Pending transfers that reserve the lead's price on acceptance."""
    source = advertiser_available(price.advertiser_id, price.currency)
    legs = [
        PlannedTransfer(
            id=f"{price.reservation_reference}:reserve:payout",
            debit=source,
            credit=webmaster_hold(price.webmaster_id, price.currency),
            amount_minor=price.payout_minor,
            kind=PENDING,
        )
    ]
    if price.margin_minor:
        legs.append(
            PlannedTransfer(
                id=f"{price.reservation_reference}:reserve:margin",
                debit=source,
                credit=platform("revenue", price.currency),
                amount_minor=price.margin_minor,
                kind=PENDING,
            )
        )
    return legs


def lead_approval(price: LeadPrice) -> list[PlannedTransfer]:
    return [_resolve(leg, "approve", post=True) for leg in lead_reservation(price)]


def lead_release(price: LeadPrice) -> list[PlannedTransfer]:
    """Reservation voided: the lead was rejected while pending."""
    return [_resolve(leg, "void", post=False) for leg in lead_reservation(price)]


def hold_release(price: LeadPrice) -> list[PlannedTransfer]:
    return [
        PlannedTransfer(
            id=f"{price.reference}:hold-release",
            debit=webmaster_hold(price.webmaster_id, price.currency),
            credit=webmaster_available(price.webmaster_id, price.currency),
            amount_minor=price.payout_minor,
        )
    ]


def lead_return(price: LeadPrice) -> list[PlannedTransfer]:
    """Reverse an approved lead's charge while its payout is still on hold."""
    advertiser = advertiser_available(price.advertiser_id, price.currency)
    legs = [
        PlannedTransfer(
            id=f"{price.reference}:return:payout",
            debit=webmaster_hold(price.webmaster_id, price.currency),
            credit=advertiser,
            amount_minor=price.payout_minor,
        )
    ]
    if price.margin_minor:
        legs.append(
            PlannedTransfer(
                id=f"{price.reference}:return:margin",
                debit=platform("revenue", price.currency),
                credit=advertiser,
                amount_minor=price.margin_minor,
            )
        )
    return legs


def payout_request(payout_id: int, webmaster_id: int, currency: str, amount_minor: int) -> PlannedTransfer:
    return PlannedTransfer(
        id=f"payout:{payout_id}",
        debit=webmaster_available(webmaster_id, currency),
        credit=platform("cash_out", currency),
        amount_minor=amount_minor,
        kind=PENDING,
    )


def payout_settlement(pending: PlannedTransfer, *, paid: bool) -> PlannedTransfer:
    return resolution_of(pending, f"{pending.id}:{'paid' if paid else 'failed'}", post=paid)


def _resolve(pending: PlannedTransfer, verb: str, *, post: bool) -> PlannedTransfer:
    lead_part, _, leg = pending.id.rpartition(":reserve:")
    return resolution_of(pending, f"{lead_part}:{verb}:{leg}", post=post)
