"""The auction's network calls (exchange/auctions/calls.py) against real endpoints on
127.0.0.1: private addresses are refused unless allowed, whether written in the URL or
resolved from a name, a buyer cannot make us read more than ``MAX_ANSWER_BYTES``, and a
redirect is not followed."""

from __future__ import annotations

import asyncio
import json

from exchange.auctions.calls import (
    ANSWERED,
    ERROR,
    INVALID,
    MAX_ANSWER_BYTES,
    PingTarget,
    make_client,
    ping_all,
)
from tests.advertiser_endpoint import Answer, Endpoint


def ping(url: str, *, allow_private: bool):
    async def main():
        async with make_client(allow_private=allow_private) as client:
            loop = asyncio.get_running_loop()
            target = PingTarget(order_id=1, url=url, max_bid_minor=5000, exclusive=False)
            return await ping_all(
                client, [target], {"country": "US"}, deadline=loop.time() + 2, per_buyer_s=2
            )

    (outcome,) = asyncio.run(main())
    return outcome


def test_a_private_address_is_refused_unless_allowed_in_the_url_or_by_name():
    with Endpoint([Answer(200, json.dumps({"bid_minor": 1200}).encode())]) as buyer:
        by_name = buyer.url.replace("127.0.0.1", "localhost")
        for url in (buyer.url, by_name):
            refused = ping(url, allow_private=False)
            assert refused.status == ERROR, url
            assert "AUCTION_ALLOW_PRIVATE_ADDRESSES is off" in refused.error
        assert buyer.received == [], "nothing was sent to a refused address"
        allowed = ping(buyer.url, allow_private=True)
    assert (allowed.status, allowed.bid_minor) == (ANSWERED, 1200)


def test_an_answer_is_read_no_further_than_its_limit():
    padded = b'{"bid_minor": 1200, "pad": "' + b"x" * (10 * MAX_ANSWER_BYTES) + b'"}'
    with Endpoint([Answer(200, padded)]) as buyer:
        outcome = ping(buyer.url, allow_private=True)
    assert outcome.status == INVALID, "cut at the limit, the answer is no JSON"


def test_a_redirect_is_not_followed():
    elsewhere = Endpoint([Answer(200, json.dumps({"bid_minor": 1200}).encode())])
    buyer = Endpoint([Answer(307, b"", headers=(("Location", elsewhere.url),))])
    with elsewhere, buyer:
        outcome = ping(buyer.url, allow_private=True)
    assert (outcome.status, outcome.error) == (ERROR, "HTTP 307")
    assert elsewhere.received == [], "the ping was not sent on to where the buyer pointed"
