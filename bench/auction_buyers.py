"""The auction benchmark's pinged buyers: one asyncio HTTP/1.1 server per buyer on
127.0.0.1, all in one process of their own (``start``), so that they do not share the
auctioneer's event loop nor its GIL.

Each buyer answers every POST with ``{"bid_minor": N}`` after a delay drawn from
[min_ms, max_ms], both seeded per buyer; a buyer whose delay is longer than any ping
timeout never answers in time. Keep-alive: requests on one connection are answered in
turn until the client closes it (or, after a timeout, drops it: the late answer is lost).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
from dataclasses import dataclass

MAX_HEAD_BYTES = 16 * 1024


@dataclass(frozen=True)
class Buyer:
    min_ms: int
    max_ms: int
    min_bid: int
    max_bid: int


def start(buyers: list[Buyer], seed: int) -> tuple[multiprocessing.Process, list[str]]:
    """Serve ``buyers`` in a new process; returns it and each buyer's ping URL, in order."""
    context = multiprocessing.get_context("spawn")  # nothing of the parent's state (engines, loops)
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=serve, args=(buyers, seed, sending), daemon=True)
    process.start()
    sending.close()
    if not receiving.poll(30):
        process.kill()
        raise SystemExit("the buyers' server did not start")
    ports = receiving.recv()
    return process, [f"http://127.0.0.1:{port}/ping" for port in ports]


def stop(process: multiprocessing.Process) -> None:
    if process.is_alive():
        process.terminate()
    process.join(10)


def serve(buyers: list[Buyer], seed: int, ready) -> None:
    asyncio.run(_serve(buyers, seed, ready))


async def _serve(buyers: list[Buyer], seed: int, ready) -> None:
    servers = []
    for number, buyer in enumerate(buyers):
        chance = random.Random(seed * 1000 + number)

        async def handle(reader, writer, buyer=buyer, chance=chance) -> None:
            await _connection(reader, writer, buyer, chance)

        servers.append(await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024, limit=MAX_HEAD_BYTES))
    ready.send([server.sockets[0].getsockname()[1] for server in servers])
    ready.close()
    await asyncio.gather(*(server.serve_forever() for server in servers))


async def _connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, buyer: Buyer, chance
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, close = _read_head(head)
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(chance.uniform(buyer.min_ms, buyer.max_ms) / 1000)
            body = json.dumps({"bid_minor": chance.randint(buyer.min_bid, buyer.max_bid)}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n%s\r\n%s"
                % (len(body), b"Connection: close\r\n" if close else b"", body)
            )
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass  # the client closed the connection, or gave up waiting
    finally:
        writer.close()


def _read_head(head: bytes) -> tuple[int, bool]:
    """The request's body length and whether the client asks to close after it."""
    length, close = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return length, close
