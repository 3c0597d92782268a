"""``flask exchange auctioneer`` runs auctions; ``flask exchange replay-auction`` proves one."""

from __future__ import annotations

import asyncio
import signal

import click
from flask import current_app

from exchange.auctions.domain import CHOSE, Rules, Step, replay
from exchange.auctions.models import Auction
from exchange.auctions.runner import serve
from exchange.auctions.settle import bids_of
from exchange.extensions import db


@click.command("auctioneer")
def auctioneer_command() -> None:
    """Claim open auctions from the database and run up to AUCTION_CONCURRENCY at once,
    until SIGTERM or SIGINT (then finish those running)."""
    app = current_app._get_current_object()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"auctioneer: up to {app.config['AUCTION_CONCURRENCY']} auctions at once")
        await serve(app, stop=stop)

    asyncio.run(main())


@click.command("replay-auction")
@click.argument("auction_id", type=int)
def replay_auction_command(auction_id: int) -> None:
    """Recompute an auction's every choice from its log; exit 1 if one differs."""
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise click.ClickException(f"no auction {auction_id}")
    if auction.rules is None:
        click.echo(f"auction {auction_id}: nothing to decide ({auction.unsold_reason})")
        return
    steps = [Step.from_log(step) for step in auction.steps]
    logged = [step.order_ids for step in steps if step.kind == CHOSE]
    again = replay(bids_of(auction), Rules(**auction.rules), steps)
    for number, (was, now) in enumerate(zip(logged, again, strict=True), start=1):
        mark = "same" if was == now else "DIFFERENT"
        click.echo(f"choice {number}: logged {list(was)} replayed {list(now)} {mark}")
    if logged != again:
        raise click.ClickException(f"auction {auction_id} does not replay")
    click.echo(f"auction {auction_id} replays: {len(logged)} choice(s), the same winners")
