"""``flask privacy erase``, ``flask privacy export`` and ``flask privacy retention``."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from exchange.actors import Actor
from exchange.db import commit
from exchange.errors import AppError
from exchange.jobs import summary

privacy_cli = AppGroup(
    "privacy", help="Consumers' personal data: erasure, export, retention (docs/privacy.md)."
)


def _contact_options(command):
    command = click.option(
        "--country", default=None, help="The country of a phone written without its code."
    )(command)
    command = click.option("--phone", default=None, help="The consumer's phone.")(command)
    return click.option("--email", default=None, help="The consumer's email.")(command)


def _subject(email: str | None, phone: str | None, country: str | None):
    from exchange.privacy.services import subject_of

    try:
        return subject_of(email, phone, country)
    except AppError as refused:
        raise click.UsageError(refused.message) from None


@privacy_cli.command("erase")
@_contact_options
@click.option("--by", "operator", default="cli", help="Who asked, for the record (a name, a ticket).")
def erase_command(email: str | None, phone: str | None, country: str | None, operator: str) -> None:
    """Erase one consumer's personal data everywhere (give --email or --phone)."""
    from exchange.privacy.services import erase_consumer

    erasure = erase_consumer(Actor.system(f"cli: {operator}"), _subject(email, phone, country))
    commit()
    click.echo(f"erasure {erasure.id}: rows_erased={erasure.rows_erased} {summary(erasure.counts)}".rstrip())


@privacy_cli.command("export")
@_contact_options
def export_command(email: str | None, phone: str | None, country: str | None) -> None:
    """Print what we hold about one consumer, as JSON (give --email or --phone)."""
    from exchange.privacy.export import consumer_data
    from exchange.privacy.schemas import ConsumerDataSchema

    data = ConsumerDataSchema().dump(consumer_data(_subject(email, phone, country)))
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@privacy_cli.command("retention")
def retention_command() -> None:
    """Run the retention step of the sweep once (``sweep-privacy``)."""
    from exchange.privacy.retention import sweep_retention

    click.echo(summary(sweep_retention()))
