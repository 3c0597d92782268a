"""``flask exchange auctioneer`` runs auctions; ``flask exchange replay-auction`` proves one."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import ScriptInfo

from exchange.auctions.domain import CHOSE, Rules, Step, replay
from exchange.auctions.models import Auction
from exchange.auctions.processes import run_processes, serve_until_signalled
from exchange.auctions.settle import bids_of
from exchange.extensions import db


@click.command("auctioneer")
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="auctioneer processes on this machine (one per core: an auctioneer is bound by its CPU)",
)
def auctioneer_command(processes: int) -> None:
    """Claim open auctions from the database and run up to AUCTION_CONCURRENCY at once (in
    each process), until SIGTERM or SIGINT (then finish those running)."""
    app = current_app._get_current_object()
    at_once = app.config["AUCTION_CONCURRENCY"]
    click.echo(f"auctioneer: {processes} process(es), up to {at_once} auctions at once each")
    if processes == 1:
        serve_until_signalled(app)
    else:
        run_processes(processes, click.get_current_context().ensure_object(ScriptInfo).app_import_path)


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
