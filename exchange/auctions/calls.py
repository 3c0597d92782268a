"""The auction's calls over the network: pings to the buyers who price each lead, posts
of sold leads to their buyers. Plain asyncio and one pooled ``httpx.AsyncClient``: an
auction waits on the network, so one process runs many at once (docs/exchange.md, "How
auctions run"). No database, no Flask.

A ping is a JSON POST of the lead's non-personal part; the buyer answers
``{"bid_minor": 1234}`` (or ``null``/``0``: no bid) within its timeout, and every ping of
an auction ends by the auction's deadline: what has not answered by then is timed out,
its answer ignored if it ever comes. A post is the full lead, signed as lead deliveries
are (HMAC-SHA256 over timestamp and body); a 2xx is taken unless its body says
``{"decision": "reject"}``; anything else is a refusal.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from dataclasses import dataclass

import httpx

from exchange.delivery.leads.domain import REJECT, parse_decision, signed_headers
from exchange.delivery.sender import address_problem

ANSWERED, NO_BID, TIMED_OUT, ERROR, INVALID = "answered", "no_bid", "timed_out", "error", "invalid"
PING_USER_AGENT = "lead-exchange-ping/1"
SALE_EVENT = "exchange.sale"
MAX_ANSWER_BYTES = 4096
PRIVATE_SETTING = "AUCTION_ALLOW_PRIVATE_ADDRESSES"


@dataclass(frozen=True)
class PingTarget:
    order_id: int
    url: str
    max_bid_minor: int
    exclusive: bool


@dataclass(frozen=True)
class PingOutcome:
    order_id: int
    status: str  # answered, no_bid, timed_out, error, invalid
    bid_minor: int | None = None
    latency_ms: int = 0
    error: str | None = None


@dataclass(frozen=True)
class PostRequest:
    sale_id: int
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class PostOutcome:
    sale_id: int
    taken: bool
    status_code: int | None = None
    error: str | None = None
    latency_ms: int = 0


def make_client(*, allow_private: bool, connections: int = 200) -> httpx.AsyncClient:
    """One client per auctioneer: its pool keeps connections to buyers open across auctions."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    transport = GuardedTransport(allow_private=allow_private, limits=limits)
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """Refuses hosts that resolve to a loopback, private or reserved address unless allowed.
    (The address is checked as resolved before connecting; docs/exchange.md notes the gap.)"""

    def __init__(self, *, allow_private: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.allow_private:
            await _refuse_private(request.url.host, request.url.port or 443)
        return await super().handle_async_request(request)


async def _refuse_private(host: str, port: int) -> None:
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        addresses = [info[4][0] for info in infos]
    for address in addresses:
        problem = address_problem(address, False, PRIVATE_SETTING)
        if problem:
            raise httpx.ConnectError(problem)


async def ping_all(
    client: httpx.AsyncClient, targets: list[PingTarget], body: dict, *, deadline: float, per_buyer_s: float
) -> list[PingOutcome]:
    """Ping every target at once; each answer counts only if it arrives by ``deadline``
    (the event loop's clock) and within ``per_buyer_s``."""
    if not targets:
        return []
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = {
        asyncio.create_task(
            _ping(client, target, body, min(per_buyer_s, max(deadline - started, 0.001)))
        ): target
        for target in targets
    }
    done, late = await asyncio.wait(tasks, timeout=max(deadline - loop.time(), 0))
    for task in late:
        task.cancel()
    waited = int((loop.time() - started) * 1000)
    outcomes = [task.result() for task in done]
    outcomes += [
        PingOutcome(tasks[task].order_id, TIMED_OUT, None, waited, "the auction's deadline") for task in late
    ]
    return sorted(outcomes, key=lambda outcome: outcome.order_id)


async def _ping(client: httpx.AsyncClient, target: PingTarget, body: dict, timeout: float) -> PingOutcome:
    payload = {**body, "buy_order_id": target.order_id, "exclusive": target.exclusive}
    payload["max_bid_minor"] = target.max_bid_minor
    started = time.monotonic()
    try:
        response = await client.post(
            target.url, json=payload, timeout=timeout, headers={"User-Agent": PING_USER_AGENT}
        )
        content = response.content[:MAX_ANSWER_BYTES]
    except httpx.TimeoutException:
        return PingOutcome(target.order_id, TIMED_OUT, None, _since(started), "timed out")
    except Exception as error:  # refused, reset, a private address, ...
        return PingOutcome(target.order_id, ERROR, None, _since(started), _describe(error))
    latency = _since(started)
    if not 200 <= response.status_code < 300:
        return PingOutcome(target.order_id, ERROR, None, latency, f"HTTP {response.status_code}")
    return read_bid(target, content, latency)


def read_bid(target: PingTarget, content: bytes, latency_ms: int) -> PingOutcome:
    """A buyer's answer: ``{"bid_minor": <integer>}``, null or 0 for no bid; a bid above the
    order's ceiling is cut to it (the ceiling is what the buyer's balance was checked for)."""
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "bid_minor" not in data:
        return PingOutcome(target.order_id, INVALID, None, latency_ms, 'not {"bid_minor": <integer>}')
    bid = data["bid_minor"]
    if bid is None or bid == 0:
        return PingOutcome(target.order_id, NO_BID, None, latency_ms)
    if type(bid) is not int or bid < 0:
        return PingOutcome(target.order_id, INVALID, None, latency_ms, "bid_minor is not a whole number")
    return PingOutcome(target.order_id, ANSWERED, min(bid, target.max_bid_minor), latency_ms)


async def post_all(
    client: httpx.AsyncClient, posts: list[PostRequest], *, timeout_s: float
) -> list[PostOutcome]:
    return list(await asyncio.gather(*(_post(client, post, timeout_s) for post in posts)))


async def _post(client: httpx.AsyncClient, post: PostRequest, timeout_s: float) -> PostOutcome:
    headers = signed_headers(post.secret, int(time.time()), post.body, SALE_EVENT)
    started = time.monotonic()
    try:
        response = await client.post(post.url, content=post.body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        return PostOutcome(post.sale_id, False, None, "timed out", _since(started))
    except Exception as error:
        return PostOutcome(post.sale_id, False, None, _describe(error), _since(started))
    latency = _since(started)
    if not 200 <= response.status_code < 300:
        return PostOutcome(post.sale_id, False, response.status_code, f"HTTP {response.status_code}", latency)
    decision = parse_decision(response.status_code, response.content[:MAX_ANSWER_BYTES])
    if decision.action == REJECT:
        return PostOutcome(post.sale_id, False, response.status_code, decision.reason or "refused", latency)
    return PostOutcome(post.sale_id, True, response.status_code, None, latency)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(error: Exception) -> str:
    return (str(error) or type(error).__name__)[:200]
