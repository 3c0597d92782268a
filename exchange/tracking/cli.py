"""``flask clicks flush [--loop]``: empty the click buffer into the database."""

from __future__ import annotations

import logging
import signal
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.jobs import redis_connection
from exchange.metrics import serve_on_metrics_port
from exchange.tracking import buffer, flushers

log = logging.getLogger(__name__)

clicks_cli = AppGroup("clicks", help="The click buffer (with REDIS_URL).")


@clicks_cli.command("flush")
@click.option("--loop", is_flag=True, help="Keep flushing until SIGTERM or SIGINT, then drain and stop.")
@click.option("--interval", default=0.2, show_default=True, help="Seconds to wait when the buffer is empty.")
@click.option("--name", default="main", show_default=True, help="This flusher's name (one process per name).")
@click.option(
    "--lease",
    "lease_seconds",
    default=flushers.LEASE_SECONDS,
    show_default=True,
    help="Seconds after which a killed flusher's batch is taken over by another flusher.",
)
def flush_command(loop: bool, interval: float, name: str, lease_seconds: float) -> None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: clicks are written directly, there is no buffer")
    redis = redis_connection(url)
    lease = flushers.Lease(redis, name, lease_seconds)
    try:
        lease.acquire()
    except flushers.NameTaken as taken:
        raise click.ClickException(str(taken)) from None
    try:
        _take_over(redis, name)
        if loop:
            _flush_until_stopped(redis, name, lease, interval)
        written = buffer.drain(redis, name)  # a graceful stop leaves nothing in the buffer
    finally:
        lease.release()
    click.echo(f"flushed; {written} click(s) in the last drain, {buffer.pending(redis)} left in the buffer")


def _flush_until_stopped(redis, name: str, lease: flushers.Lease, interval: float) -> None:
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    serve_on_metrics_port()
    click.echo(f"flusher {name} running", nl=True)
    sys.stdout.flush()
    looked = time.monotonic()
    while not stopping:
        if not lease.renew():
            raise click.ClickException(f"another flusher named {name!r} took over; this one stops")
        if time.monotonic() - looked >= flushers.RECLAIM_EVERY_SECONDS:
            _take_over(redis, name)
            looked = time.monotonic()
        if not buffer.drain_once(redis, name):
            time.sleep(interval)


def _take_over(redis, name: str) -> None:
    """The batches of flushers that died go into this one's next batch."""
    if taken := flushers.reclaim(redis, name):
        log.warning("flusher %s: took over %d click(s) of a flusher that died", name, taken)
