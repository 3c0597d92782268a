"""``flask reports fold | rebuild | check``."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask.cli import AppGroup

from exchange import clock

reports_cli = AppGroup("reports", help="Report rollups.")


@reports_cli.command("fold")
def fold_command() -> None:
    """Fold every pending change into the rollups (what the periodic job does)."""
    from exchange.reports.jobs import fold_job

    click.echo(fold_job())


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Compute every rollup again from the raw clicks and leads (the demo; after a migration)."""
    from exchange.reports.rollup import rebuild

    click.echo(f"{rebuild()} hourly rows written")


@reports_cli.command("check")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (30 days ago).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (today).")
def check_command(since, until) -> None:
    """Compare the rollups with the raw rows over a period; exit 1 naming the differences.
    (Changes not folded yet count as differences: fold first.)"""
    from exchange.reports.rollup import check

    last: date = until.date() if until else clock.now().date()
    first: date = since.date() if since else last - timedelta(days=30)
    differences = check(first, last)
    for line in differences[:50]:
        click.echo(line, err=True)
    if differences:
        raise SystemExit(f"reports check: {len(differences)} differences from {first} to {last}")
    click.echo(f"reports check: the rollups equal the raw rows from {first} to {last}")
