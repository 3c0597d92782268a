"""CLI groups: ``flask exchange sweep``, ``flask demo seed`` (and those of the features,
such as ``flask jobs requeue-failed``)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

exchange_cli = AppGroup("exchange", help="The marketplace's periodic work.")
demo_cli = AppGroup("demo", help="Demo data.")


@exchange_cli.command("sweep")
def sweep_command() -> None:
    """Every step of the sweep once: review windows, holds, waiting and stuck leads, due
    postbacks and deliveries, unanswered disputes, lost Stripe events, stuck tasks."""
    from exchange.periodic import sweep

    click.echo(str(sweep()))


def _refuse_in_production() -> None:
    if current_app.config["EXCHANGE_ENV"] == "production":
        raise click.ClickException("demo commands do not run in production (known demo passwords)")


@demo_cli.command("seed")
def seed_command() -> None:
    """Fill an empty database with a demo; prints logins and API keys."""
    from exchange.demo import seed

    _refuse_in_production()
    click.echo(seed())


def register_cli(app: Flask) -> None:
    from billing.cli import billing_cli
    from exchange.accounts.cli import users_cli
    from exchange.admin.failed_jobs import jobs_cli
    from exchange.auctions.cli import auctioneer_command, replay_auction_command
    from exchange.longjobs.cli import tasks_cli
    from exchange.privacy.cli import privacy_cli
    from exchange.reports.cli import reports_cli
    from exchange.tracking.cli import clicks_cli

    exchange_cli.add_command(auctioneer_command)
    exchange_cli.add_command(replay_auction_command)
    for group in (users_cli, billing_cli, exchange_cli, demo_cli, clicks_cli, jobs_cli, reports_cli):
        app.cli.add_command(group)
    app.cli.add_command(tasks_cli)
    app.cli.add_command(privacy_cli)


@demo_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the app for a demo, with the sweep on a timer thread."""
    from werkzeug.serving import run_simple

    from exchange.demo import credentials_path
    from exchange.demo_exchange import point_demo_buyer_at
    from exchange.periodic import start_sweep_timer

    _refuse_in_production()
    app = current_app._get_current_object()
    path = credentials_path()
    click.echo(f"\nLead exchange running at http://{host}:{port}/  (Ctrl+C to stop)")
    if path.exists():
        click.echo(path.read_text())
    point_demo_buyer_at(host, port)  # the demo's pinged buy orders ask this very server
    start_sweep_timer(app)
    run_simple(host, port, app, threaded=True, use_reloader=False)
