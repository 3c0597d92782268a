"""``flask billing credit | check | settle-payout | scheduled-payouts | payout-batch``."""

from __future__ import annotations

import re
import sys
import uuid

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.check import run_checks
from billing.domain import LedgerError
from billing.events import funds_arrived
from billing.payouts.services import settle_by_hand
from billing.services import credit_advertiser
from exchange.accounts.models import User
from exchange.db import commit
from exchange.errors import AppError
from exchange.extensions import db

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
    funds_arrived(user.id, currency)
    commit()
    click.echo(f"credited {amount_minor} {currency} to {user.email} ({transfer.id})")


@billing_cli.command("settle-payout")
@click.argument("payout_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(["paid", "failed"]))
@click.option("--note", default="")
def settle_payout_command(payout_id: int, outcome: str, note: str) -> None:
    """Mark a requested payout paid, or failed (its money returns to available)."""
    try:
        payout = settle_by_hand(payout_id, paid=outcome == "paid", settled_by_id=None, note=note)
    except AppError as error:
        raise click.ClickException(error.message) from None
    commit()
    click.echo(f"payout {payout.id}: {payout.status}")


@billing_cli.command("scheduled-payouts")
def scheduled_payouts_command() -> None:
    """Request every scheduled payout due today (once per webmaster, currency and period)."""
    from billing.payouts.jobs import run_scheduled_payouts

    click.echo(str(run_scheduled_payouts()))


@billing_cli.command("payout-batch")
@click.option("--currency", required=True, help="Gather the requested manual payouts in this currency.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write the CSV here.")
def payout_batch_command(currency: str, output: str | None) -> None:
    """Batch the requested manual payouts of a currency; print the CSV (or its path)."""
    from billing.payouts.batches import batch_csv, batch_view, create_batch

    currency = currency.upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise click.ClickException(f"{currency!r} is not a three-letter currency code")
    try:
        batch = create_batch(currency, created_by_id=None)
    except AppError as error:
        raise click.ClickException(error.message) from None
    commit()
    view = batch_view(batch.id)
    text = "".join(batch_csv(batch.id))
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"batch {batch.id}: {len(view.payout_ids)} payout(s), CSV in {output}")
    else:
        click.echo(text, nl=False)


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


@billing_cli.command("reconcile")
def reconcile_command() -> None:
    """Compare Stripe's balance transactions with the ledger's cash_in; exit 1 naming each difference."""
    from billing.topups import gateway as stripe_gateway
    from billing.topups.reconcile import reconcile

    if not stripe_gateway.configured():
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY): nothing to reconcile")
    try:
        differences = reconcile()
    except AppError as error:
        raise click.ClickException(error.message) from None
    for difference in differences[:100]:
        click.echo(f"DIFF {difference}")
    if differences:
        click.echo(f"{len(differences)} difference(s) between Stripe and the ledger")
        sys.exit(1)
    click.echo("ok   Stripe's balance transactions match the ledger's cash_in")
