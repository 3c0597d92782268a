"""Who wins an auction, and at what price. Pure: no framework, no clock, no I/O.

The input is what the auction learned: the bids (fixed bids of buy orders, and the
answers of the buyers pinged in time), the vertical's rules for this lead (its slots,
its floor for the lead's country and temperature, the platform's margin) and what the
seller must at least earn (a firm price quoted to a seller who pinged first). The output
is the choice, a function of that input alone, so an auction's log replays to the same
winners (``replay``).

The rules (docs/exchange.md "The auction"):

1. A bid under the floor, or that leaves the seller less than one minor unit after the
   platform's margin, is dropped, with its reason.
2. A buyer buys a consumer once: of one buyer's bids only its best counts.
3. The price is the bid (first price): what the buyer said it would pay, no more; times
   the seller's quality multiplier on the vertical (``quality_bps``, exchange/quality: 100 %
   unless its sales are often rejected or returned), which lowers the floor the same way.
4. The choice earns the most: one exclusive bid, or up to ``slots`` shared bids whose sum
   beats it. A tie goes to the exclusive bid (the consumer is called once). Between bids
   of one amount, the buyer with the lower share of posts refused and sales returned wins
   (``rank_tenths``), then the buy order with the lower id (it was there first).
5. When a seller was promised a price, a choice that pays the seller less is no choice.
6. A winner that cannot take its sale (its cap or balance ran out meanwhile, its post was
   refused) is excluded and the choice is made again, keeping the sales already made.
   ``Waterfall`` keeps that state and writes each step down; ``replay`` recomputes every
   choice from the steps, so the log proves the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from exchange.money import BPS_WHOLE, times_bps

# Why a bid did not count (the auction log's words; docs/exchange.md lists them).
UNDER_FLOOR = "floor"
UNDER_COST = "cost"
OUTBID = "outbid"
SAME_BUYER = "same_buyer"


@dataclass(frozen=True, order=True)
class Bid:
    """One buy order's offer for the lead: ``amount_minor`` for one slot, or for the lead
    alone when ``exclusive``."""

    order_id: int
    buyer_id: int
    amount_minor: int
    exclusive: bool
    rank_tenths: int = 0  # the buyer's share refused or returned: lower wins a tie


@dataclass(frozen=True)
class Rules:
    """What the vertical says about this lead, and what its seller must earn."""

    slots: int  # how many buyers may buy it in all (1: exclusive only)
    floor_minor: int  # the least a buyer may pay for a slot
    margin_bps: int = 0  # the platform's share of each sale, or
    margin_minor: int = 0  # a fixed amount per sale (one of the two)
    min_payout_minor: int = 0  # the least the seller earns from the whole choice (a quote)
    slots_taken: int = 0  # sold before this auction (another seller's resubmission)
    exclusive_allowed: bool = True  # False once any slot of the consumer was sold
    quality_bps: int = BPS_WHOLE  # the seller's multiplier on the vertical (exchange/quality)

    def price_of(self, amount_minor: int) -> int:
        """What a bid of ``amount_minor`` costs its buyer: the bid times the seller's multiplier."""
        return times_bps(amount_minor, self.quality_bps)

    def margin_of(self, amount_minor: int) -> int:
        if self.margin_bps:
            return amount_minor * self.margin_bps // BPS_WHOLE  # down: the seller's favour
        return self.margin_minor

    def payout_of(self, amount_minor: int) -> int:
        return amount_minor - self.margin_of(amount_minor)

    @property
    def slots_left(self) -> int:
        return max(self.slots - self.slots_taken, 0)


@dataclass(frozen=True)
class Choice:
    winners: tuple[Bid, ...] = ()
    # Every bid that did not win, with why (floor, cost, same_buyer, outbid or an exclusion).
    losers: dict[int, str] = field(default_factory=dict)

    @property
    def revenue_minor(self) -> int:
        return sum(bid.amount_minor for bid in self.winners)


def rank(bid: Bid) -> tuple[int, int, int]:
    """The order bids are compared in: higher amount first, then the buyer that refuses and
    returns less, then the older buy order."""
    return (-bid.amount_minor, bid.rank_tenths, bid.order_id)


def admissible(bids: Iterable[Bid], rules: Rules) -> tuple[list[Bid], dict[int, str]]:
    """The bids that may win, best first, and why each other one may not (rules 1 and 2)."""
    kept: list[Bid] = []
    dropped: dict[int, str] = {}
    best_of_buyer: set[int] = set()
    for bid in sorted(bids, key=rank):
        if bid.amount_minor < rules.floor_minor:
            dropped[bid.order_id] = UNDER_FLOOR
        elif rules.payout_of(rules.price_of(bid.amount_minor)) < 1:
            dropped[bid.order_id] = UNDER_COST
        elif bid.buyer_id in best_of_buyer:
            dropped[bid.order_id] = SAME_BUYER
        else:
            best_of_buyer.add(bid.buyer_id)
            kept.append(bid)
    return kept, dropped


def choose(bids: Iterable[Bid], rules: Rules, *, sold: tuple[Bid, ...] = ()) -> Choice:
    """The winners among ``bids`` (rules 1 to 5). ``sold`` are this auction's sales made
    in an earlier round: they stay, take their slots, and their buyers do not bid again."""
    sold_buyers = {bid.buyer_id for bid in sold}
    pool = [bid for bid in bids if bid.buyer_id not in sold_buyers and bid not in sold]
    kept, losers = admissible(pool, rules)
    slots_left = rules.slots_left - len(sold)
    options: list[tuple[Bid, ...]] = []
    if rules.exclusive_allowed and not sold and rules.slots_taken == 0 and slots_left >= 1:
        options += [(bid,) for bid in kept if bid.exclusive]
    shared = [bid for bid in kept if not bid.exclusive]
    options += [tuple(shared[:count]) for count in range(1, min(slots_left, len(shared)) + 1)]
    feasible = [option for option in options if _pays_seller(option, sold, rules)]
    winners = max(feasible, key=lambda option: _worth(option), default=())
    won = set(winners)
    losers.update({bid.order_id: OUTBID for bid in kept if bid not in won})
    return Choice(winners, losers)


def _pays_seller(option: tuple[Bid, ...], sold: tuple[Bid, ...], rules: Rules) -> bool:
    payout = sum(rules.payout_of(rules.price_of(bid.amount_minor)) for bid in (*sold, *option))
    return payout >= rules.min_payout_minor


def _worth(option: tuple[Bid, ...]) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """Most revenue; then fewer sales (rule 4's tie); then the buyers that refuse and return
    less; then the older buy orders."""
    return (
        sum(bid.amount_minor for bid in option),
        -len(option),
        tuple(-bid.rank_tenths for bid in option),
        tuple(-bid.order_id for bid in option),
    )


# What happened, in order, as the auction log keeps it: a choice made, a sale made, a
# sale that could not be made or was undone (a cap or balance that ran out under the lock,
# a post refused), and why.
CHOSE, SOLD, FAILED = "chose", "sold", "failed"


@dataclass(frozen=True)
class Step:
    kind: str  # CHOSE, SOLD or FAILED
    order_ids: tuple[int, ...]  # the winners (CHOSE) or the one buy order (SOLD, FAILED)
    reason: str | None = None  # FAILED: why

    @classmethod
    def from_log(cls, stored: dict) -> Step:
        return cls(stored["kind"], tuple(stored["order_ids"]), stored.get("reason"))


@dataclass
class Waterfall:
    """The state between choices (rule 6): the sales standing and the bids out of the running."""

    bids: list[Bid]
    rules: Rules
    sold: tuple[Bid, ...] = ()
    out: set[int] = field(default_factory=set)
    steps: list[Step] = field(default_factory=list)

    def choose(self) -> Choice:
        choice = choose(
            [bid for bid in self.bids if bid.order_id not in self.out], self.rules, sold=self.sold
        )
        self.steps.append(Step(CHOSE, tuple(bid.order_id for bid in choice.winners)))
        return choice

    def sold_to(self, bid: Bid) -> None:
        self.sold += (bid,)
        self.steps.append(Step(SOLD, (bid.order_id,)))

    def failed(self, bid: Bid, reason: str) -> None:
        self.sold = tuple(each for each in self.sold if each != bid)
        self.out.add(bid.order_id)
        self.steps.append(Step(FAILED, (bid.order_id,), reason))


def restore(bids: list[Bid], rules: Rules, steps: list[Step]) -> Waterfall:
    """The waterfall as its log left it, to go on from there (a post refused later)."""
    by_id = {bid.order_id: bid for bid in bids}
    state = Waterfall(bids, rules)
    for step in steps:
        if step.kind == SOLD:
            state.sold_to(by_id[step.order_ids[0]])
        elif step.kind == FAILED:
            state.failed(by_id[step.order_ids[0]], step.reason or "")
        else:
            state.steps.append(step)
    return state


def replay(bids: list[Bid], rules: Rules, steps: list[Step]) -> list[tuple[int, ...]]:
    """Each choice recomputed from the bids and what happened before it. An auction's log
    replays when this equals its CHOSE steps' winners."""
    by_id = {bid.order_id: bid for bid in bids}
    state = Waterfall(bids, rules)
    chosen = []
    for step in steps:
        if step.kind == CHOSE:
            chosen.append(tuple(bid.order_id for bid in state.choose().winners))
        elif step.kind == SOLD:
            state.sold_to(by_id[step.order_ids[0]])
        else:
            state.failed(by_id[step.order_ids[0]], step.reason or "")
    return chosen
