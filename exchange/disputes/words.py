"""What each kind of dispute is called and what its outcomes do, in the words the pages use
(the parties' thread, the moderators' evidence), so that no template guesses by its kind."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.disputes.domain import APPEAL, RETURN, SALE_RETURN


@dataclass(frozen=True)
class KindWords:
    title: str  # "Appeal 4 on lead 12"
    claim: str  # what the claimant asks
    concede: str  # what conceding does (said to the counterparty)
    withdraw: str  # the claimant's button
    uphold: str  # what upholding does (said to the moderators)
    overturn: str  # what overturning does


WORDS = {
    APPEAL: KindWords(
        title="Appeal",
        claim="The webmaster appeals the advertiser's rejection",
        concede="the rejection is undone: the lead is approved and you are charged",
        withdraw="my appeal",
        uphold="the lead stays rejected",
        overturn="the lead is approved and charged",
    ),
    RETURN: KindWords(
        title="Return request",
        claim="The advertiser asks to return an approved lead",
        concede="the lead is returned: its payout goes back to the advertiser",
        withdraw="my return request",
        uphold="the lead is returned and the charge reversed",
        overturn="the lead stays approved",
    ),
    SALE_RETURN: KindWords(
        title="Sale return",
        claim="The buyer asks to return its purchase of this lead",
        concede="the sale is returned: its price goes back to the buyer, and your payout with it",
        withdraw="my return",
        uphold="the sale is returned: the buyer's price and the seller's payout are reversed",
        overturn="the sale stays approved",
    ),
}
