"""CLI groups: ``flask exchange sweep``, ``flask demo seed`` (and those of the features)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

exchange_cli = AppGroup("exchange", help="The marketplace's periodic work.")
demo_cli = AppGroup("demo", help="Demo data.")


@exchange_cli.command("sweep")
def sweep_command() -> None:
    """Approve leads past review, release holds, fund waiting leads, re-enqueue stuck ones."""
    from exchange.leads.sweep import sweep

    click.echo(str(sweep()))


@demo_cli.command("seed")
def seed_command() -> None:
    """Fill an empty database with a demo; prints logins and API keys."""
    from exchange.demo import seed

    click.echo(seed())


def register_cli(app: Flask) -> None:
    from billing.cli import billing_cli
    from exchange.accounts.cli import users_cli

    for group in (users_cli, billing_cli, exchange_cli, demo_cli):
        app.cli.add_command(group)
