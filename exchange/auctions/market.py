"""What making sales needs, for every auction settled in one transaction: locked, then read
once, then kept current in memory as the sales are chosen, so that the auctions of one
batch see each other's sales (the register, the caps, the balances) as if each had been
settled in its own transaction, one after the other.

Lock order, the same everywhere a sale is made or undone: the auctions, the leads (each
set in id order, by the caller), the consumers' register rows (``lock_consumers``), the
capped buy orders (by id), then every ledger account the sales may touch, at once (by id).
Two transactions locking some of the same rows therefore take turns, never deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from billing.models import Account
from billing.services import lock_for_sales
from exchange import clock
from exchange.auctions.models import Auction
from exchange.buying.domain import Caps, cap_failure
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.register import Register, Sold, consumer_hashes, lock_consumers
from exchange.buying.usage import Used, add_sale, lock_buy_orders, usages_of
from exchange.delivery.leads.models import DeliverySetting
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.verticals.models import Vertical


@dataclass
class Deal:
    """One auction whose sales are being made."""

    auction: Auction
    lead: Lead
    vertical: Vertical

    @property
    def hashes(self) -> tuple[str | None, str | None]:
        return consumer_hashes(self.lead.phone_key, self.lead.email_key)

    def since(self, now: datetime) -> datetime:
        return now - timedelta(seconds=self.vertical.duplicate_window_seconds)


@dataclass
class Market:
    orders: dict[int, BuyOrder]
    posts_to: set[int]  # buyers that can take a post (a delivery endpoint and its secret)
    accounts: dict[tuple[int, str], Account]  # each buyer's available account, by currency
    now: datetime = field(default_factory=clock.now)
    # read under the locks (``read``), then spent as the sales are chosen (``took``):
    balances: dict[tuple[int, str], int] = field(default_factory=dict)
    usages: dict[int, Used] = field(default_factory=dict)
    register: Register = field(default_factory=lambda: Register([]))

    @classmethod
    def lock(
        cls, deals: list[Deal], order_ids: list[int], *, giving_back: set[tuple[int, str]] = frozenset()
    ) -> Market:
        """Take the locks of the module's docstring (``giving_back``: buyers, by currency,
        whose sales are voided in the same transaction). Read nothing yet: ``read``."""
        lock_consumers([(deal.vertical.id, deal.hashes) for deal in deals])
        orders = lock_buy_orders(order_ids)
        currency_of = {deal.vertical.id: deal.vertical.currency for deal in deals}
        buyers = {(order.buyer_id, currency_of[order.vertical_id]) for order in orders.values()}
        posts_to = set(
            db.session.scalars(
                select(DeliverySetting.advertiser_id).where(
                    DeliverySetting.advertiser_id.in_({buyer for buyer, _ in buyers})
                )
            )
        )
        sellers = {(deal.lead.webmaster_id, deal.vertical.currency) for deal in deals}
        accounts = lock_for_sales(buyers, sellers, giving_back=giving_back)  # the last
        return cls(orders, posts_to, accounts)

    def read(self, deals: list[Deal]) -> None:
        """The balances, the caps' usage and the register, as they stand under the locks."""
        self.balances = {key: account.balance.available for key, account in self.accounts.items()}
        self.usages = usages_of(self.orders.values())
        consumers = [(deal.vertical.id, deal.hashes) for deal in deals]
        since = min((deal.since(self.now) for deal in deals), default=self.now)
        self.register = Register.read(consumers, since)

    def sold(self, deal: Deal) -> Sold:
        return self.register.sold(deal.vertical.id, deal.hashes, deal.since(self.now))

    def cap_failure(self, order: BuyOrder, amount_minor: int) -> str | None:
        caps = Caps.from_stored(order.caps)
        return cap_failure(caps, self.usages[order.id], amount_minor) if caps.any else None

    def balance(self, buyer_id: int, currency: str) -> int:
        return self.balances.get((buyer_id, currency), 0)

    def took(self, sale: Sale) -> None:
        """A sale chosen: its price spent, its order's caps used, its consumer's slot taken."""
        self.balances[sale.buyer_id, sale.currency] = (
            self.balance(sale.buyer_id, sale.currency) - sale.price_minor
        )
        if sale.buy_order_id in self.usages:
            add_sale(self.usages[sale.buy_order_id], sale.price_minor)
        self.register.add(sale, self.now)
