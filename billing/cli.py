"""``flask billing credit | check | settle-payout``."""

from __future__ import annotations

import re
import sys
import uuid

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.check import run_checks
from billing.domain import LedgerError
from billing.services import credit_advertiser, settle_payout
from exchange.accounts.models import User
from exchange.db import commit
from exchange.errors import AppError
from exchange.extensions import db
from exchange.leads.funding import enqueue_funding

billing_cli = AppGroup("billing", help="Money: credits, payouts, ledger checks.")


@billing_cli.command("credit")
@click.option("--email", required=True, help="The advertiser to credit.")
@click.option("--amount-minor", required=True, type=click.IntRange(min=1))
@click.option("--currency", required=True)
@click.option("--reference", default=None, help="Payment reference; the same one credits once.")
def credit_command(email: str, amount_minor: int, currency: str, reference: str | None) -> None:
    """Credit an advertiser's balance (money received outside the platform)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.role != "advertiser":
        raise click.ClickException(f"no advertiser {email}")
    currency = currency.upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise click.ClickException(f"{currency!r} is not a three-letter currency code")
    reference = reference or f"manual-{uuid.uuid4().hex}"
    try:
        transfer = credit_advertiser(user.id, currency, amount_minor, reference)
    except (AppError, LedgerError) as error:
        raise click.ClickException(getattr(error, "message", str(error))) from None
    enqueue_funding(user.id, currency)
    commit()
    click.echo(f"credited {amount_minor} {currency} to {user.email} ({transfer.id})")


@billing_cli.command("settle-payout")
@click.argument("payout_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(["paid", "failed"]))
@click.option("--note", default="")
def settle_payout_command(payout_id: int, outcome: str, note: str) -> None:
    """Mark a requested payout paid, or failed (its money returns to available)."""
    try:
        payout = settle_payout(payout_id, paid=outcome == "paid", settled_by_id=None, note=note)
    except AppError as error:
        raise click.ClickException(error.message) from None
    commit()
    click.echo(f"payout {payout.id}: {payout.status}")


@billing_cli.command("check")
def check_command() -> None:
    """Verify the ledger's invariants; exit 1 naming each one that fails."""
    failed = False
    for name, problems in run_checks().items():
        if problems:
            failed = True
            click.echo(f"FAIL {name}")
            for problem in problems[:20]:
                click.echo(f"  {problem}")
        else:
            click.echo(f"ok   {name}")
    sys.exit(1 if failed else 0)
