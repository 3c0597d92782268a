"""The auction's calls over the network: pings to the buyers who price each lead, posts
of sold leads to their buyers. Plain asyncio and one pooled ``aiohttp.ClientSession``: an
auction waits on the network, so one process runs many at once (docs/exchange.md, "How
auctions run"). No database, no Flask.

aiohttp rather than httpx: with 64 auctions of five pings in flight (320 requests at
once, one buyer always timing out), httpx's pool answered 28 rounds/s and lost answers
that came in time, aiohttp 126 rounds/s with none lost (bench/auction.py's buyers, the
same machine and run); httpx's pool does work per request in proportion to the requests
waiting for it (encode/httpcore#1035).

A ping is a JSON POST of the lead's non-personal part; the buyer answers
``{"bid_minor": 1234}`` (or ``null``/``0``: no bid) within its timeout, and every ping of
an auction ends by the auction's deadline: what has not answered by then is timed out,
its answer ignored if it ever comes. A post is the full lead, signed as lead deliveries
are (HMAC-SHA256 over timestamp and body); a 2xx is taken unless its body says
``{"decision": "reject"}``; anything else is a refusal.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import socket
import time
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

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


@dataclass
class Client:
    """One per auctioneer: its pool keeps connections to buyers open across auctions."""

    session: aiohttp.ClientSession
    allow_private: bool

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()


def make_client(*, allow_private: bool, connections: int = 1000) -> Client:
    connector = aiohttp.TCPConnector(
        limit=connections, limit_per_host=0, resolver=GuardedResolver(allow_private=allow_private)
    )
    session = aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": PING_USER_AGENT}, cookie_jar=aiohttp.DummyCookieJar()
    )
    return Client(session, allow_private)


class GuardedResolver(AbstractResolver):
    """Resolves names as usual, then refuses a loopback, private or reserved address unless
    allowed: the addresses checked are the ones connected to. (An address written in the URL
    is not resolved: ``refuse_private_literal`` checks it before the request.)"""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        for each in found:
            problem = address_problem(each["host"], self.allow_private, PRIVATE_SETTING)
            if problem:
                raise GuardRefused(problem)
        return found

    async def close(self) -> None:
        await self.inner.close()


class GuardRefused(OSError):
    pass


def refuse_private_literal(url: str, allow_private: bool) -> None:
    problem = _literal_problem(url, allow_private)
    if problem:
        raise GuardRefused(problem)


@functools.lru_cache(maxsize=4096)  # the same few buyers' URLs, pinged for every auction
def _literal_problem(url: str, allow_private: bool) -> str | None:
    host = URL(url).host or ""  # an IPv6 address without its brackets
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: the resolver checks what it resolves to
    return address_problem(host, allow_private, PRIVATE_SETTING)


async def ping_all(
    client: Client, targets: list[PingTarget], body: dict, *, deadline: float, per_buyer_s: float
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


async def _ping(client: Client, target: PingTarget, body: dict, timeout: float) -> PingOutcome:
    payload = {**body, "buy_order_id": target.order_id, "exclusive": target.exclusive}
    payload["max_bid_minor"] = target.max_bid_minor
    started = time.monotonic()
    try:
        refuse_private_literal(target.url, client.allow_private)
        async with client.session.post(
            target.url, json=payload, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            content = await _read_capped(response)
    except TimeoutError:
        return PingOutcome(target.order_id, TIMED_OUT, None, _since(started), "timed out")
    except Exception as error:  # refused, reset, a private address, ...
        return PingOutcome(target.order_id, ERROR, None, _since(started), _describe(error))
    latency = _since(started)
    if not 200 <= response.status < 300:
        return PingOutcome(target.order_id, ERROR, None, latency, f"HTTP {response.status}")
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


async def post_all(client: Client, posts: list[PostRequest], *, timeout_s: float) -> list[PostOutcome]:
    return list(await asyncio.gather(*(_post(client, post, timeout_s) for post in posts)))


async def _post(client: Client, post: PostRequest, timeout_s: float) -> PostOutcome:
    headers = signed_headers(post.secret, int(time.time()), post.body, SALE_EVENT)
    started = time.monotonic()
    try:
        refuse_private_literal(post.url, client.allow_private)
        async with client.session.post(
            post.url,
            data=post.body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as response:
            content = await _read_capped(response)
    except TimeoutError:
        return PostOutcome(post.sale_id, False, None, "timed out", _since(started))
    except Exception as error:
        return PostOutcome(post.sale_id, False, None, _describe(error), _since(started))
    latency = _since(started)
    if not 200 <= response.status < 300:
        return PostOutcome(post.sale_id, False, response.status, f"HTTP {response.status}", latency)
    decision = parse_decision(response.status, content)
    if decision.action == REJECT:
        return PostOutcome(post.sale_id, False, response.status, decision.reason or "refused", latency)
    return PostOutcome(post.sale_id, True, response.status, None, latency)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """At most ``MAX_ANSWER_BYTES`` of the body: a buyer cannot make us read more."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(MAX_ANSWER_BYTES):
        body += chunk
        if len(body) >= MAX_ANSWER_BYTES:
            break
    return bytes(body[:MAX_ANSWER_BYTES])


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(error: Exception) -> str:
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, GuardRefused):
        error = error.os_error  # aiohttp's own message leaves the resolver's reason out
    return (str(error) or type(error).__name__)[:200]
