"""``flask clicks flush [--loop]``: empty the click buffer into the database."""

from __future__ import annotations

import signal
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.jobs import redis_connection
from exchange.metrics import serve_on_metrics_port
from exchange.tracking import buffer

clicks_cli = AppGroup("clicks", help="The click buffer (with REDIS_URL).")


@clicks_cli.command("flush")
@click.option("--loop", is_flag=True, help="Keep flushing until SIGTERM or SIGINT, then drain and stop.")
@click.option("--interval", default=0.2, show_default=True, help="Seconds to wait when the buffer is empty.")
@click.option("--name", default="main", show_default=True, help="This flusher's name (one process per name).")
def flush_command(loop: bool, interval: float, name: str) -> None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: clicks are written directly, there is no buffer")
    redis = redis_connection(url)
    stopping = []
    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        serve_on_metrics_port()
        click.echo(f"flusher {name} running", nl=True)
        sys.stdout.flush()
        while not stopping:
            if not buffer.drain_once(redis, name):
                time.sleep(interval)
    written = buffer.drain(redis, name)  # a graceful stop leaves nothing in the buffer
    click.echo(f"flushed; {written} click(s) in the last drain, {buffer.pending(redis)} left in the buffer")
