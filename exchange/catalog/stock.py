"""What is sold of some catalog leads, read together: each lead's own live sales (whenever
they were made: a lead sold out stays sold out) and its consumer's in the register of sales
(within the vertical's duplicate window, whichever lead of the consumer was sold). A lead's
slots left are the fewer of the two; an exclusive sale in either closes it. A lead one of
whose sales was returned for a reason that condemns it (a wrong number, not the consumer,
no consent) is never sold again, and a buyer that returned a lead does not buy it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from exchange.buying.models import Sale
from exchange.buying.register import LIVE, Register, consumer_hashes
from exchange.catalog.domain import Listing
from exchange.disputes.domain import CONDEMNING, RESOLVED, SALE_RETURN, UPHELD
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.verticals.models import Vertical


@dataclass
class Stock:
    own: dict[int, tuple[int, bool]]  # lead id: (live sales, one of them exclusive)
    owners: set[tuple[int, int]]  # (lead id, buyer id) of each live or returned sale
    condemned: set[int]  # lead ids
    register: Register
    now: datetime

    @classmethod
    def read(cls, leads: list[Lead], verticals: dict[int, Vertical], now: datetime) -> Stock:
        """Read under the consumers' locks by a purchase; without them by the sweep (which
        only shows what a purchase checks again)."""
        ids = [lead.id for lead in leads]
        rows = db.session.execute(
            select(Sale.lead_id, Sale.buyer_id, Sale.exclusive, Sale.status).where(
                Sale.lead_id.in_(ids), Sale.status.in_((*LIVE, "returned"))
            )
        ).all()
        own: dict[int, tuple[int, bool]] = {}
        for lead_id, _, exclusive, status in rows:
            if status in LIVE:
                count, any_exclusive = own.get(lead_id, (0, False))
                own[lead_id] = (count + 1, any_exclusive or exclusive)
        consumers = [(lead.vertical_id, hashes_of(lead)) for lead in leads]
        windows = [window_start(verticals[lead.vertical_id], now) for lead in leads]
        register = Register.read(consumers, min(windows, default=now))
        owners = {(lead_id, buyer_id) for lead_id, buyer_id, _, _ in rows}
        returned = sorted({lead_id for lead_id, _, _, status in rows if status == "returned"})
        return cls(own, owners, condemned_among(returned), register, now)

    def listing(self, lead: Lead, vertical: Vertical) -> Listing:
        own, own_exclusive = self.own.get(lead.id, (0, False))
        consumer = self.register.sold(vertical.id, hashes_of(lead), window_start(vertical, self.now))
        return Listing.of(vertical.slots, max(own, consumer.slots_taken), own_exclusive or consumer.exclusive)

    def own_count(self, lead_id: int) -> int:
        return self.own.get(lead_id, (0, False))[0]

    def bought_by(self, buyer_id: int, lead: Lead, vertical: Vertical) -> bool:
        """The buyer has this consumer already (in the window), or this very lead."""
        consumer = self.register.sold(vertical.id, hashes_of(lead), window_start(vertical, self.now))
        return buyer_id in consumer.buyers or (lead.id, buyer_id) in self.owners

    def mark(self) -> tuple:
        """What the stock holds now, for ``rewind``: an order refused half-way leaves none
        of its sales in the stock."""
        return dict(self.own), set(self.owners), len(self.register.entries)

    def rewind(self, mark: tuple) -> None:
        own, owners, entries = mark
        self.own, self.owners = dict(own), set(owners)
        del self.register.entries[entries:]

    def add(self, sale: Sale) -> None:
        """A sale made since the stock was read."""
        count, exclusive = self.own.get(sale.lead_id, (0, False))
        self.own[sale.lead_id] = (count + 1, exclusive or sale.exclusive)
        self.register.add(sale, self.now)
        self.owners.add((sale.lead_id, sale.buyer_id))


def condemned_among(lead_ids: list[int]) -> set[int]:
    """The leads among these (those with a returned sale: no query when none has) with a
    sale returned for a reason that condemns the lead."""
    if not lead_ids:
        return set()
    return set(
        db.session.scalars(
            select(Dispute.lead_id).where(
                Dispute.lead_id.in_(lead_ids),
                Dispute.kind == SALE_RETURN,
                Dispute.status == RESOLVED,
                Dispute.outcome == UPHELD,
                Dispute.reason.in_(CONDEMNING),
            )
        )
    )


def hashes_of(lead: Lead) -> tuple[str | None, str | None]:
    return consumer_hashes(lead.phone_key, lead.email_key)


def window_start(vertical: Vertical, now: datetime) -> datetime:
    return now - timedelta(seconds=vertical.duplicate_window_seconds)
