"""``flask users create``, ``flask users set-password`` and ``flask users create-key``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from exchange.accounts.domain import ROLES
from exchange.accounts.models import User
from exchange.accounts.services import create_api_key, create_user, set_password
from exchange.db import commit
from exchange.errors import AppError
from exchange.extensions import db

users_cli = AppGroup("users", help="Users and API keys.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default="")
@click.option(
    "--status",
    type=click.Choice(("active", "pending")),
    default=None,
    help="Default: active, except a webmaster under WEBMASTER_APPROVAL=moderator (pending).",
)
@click.password_option("--password", prompt=True, confirmation_prompt=True)
def create_user_command(email: str, role: str, name: str, status: str | None, password: str) -> None:
    """Create a user who can log in to the web portal."""
    try:
        user = create_user(email, name, role, password, status=status)
        commit()
    except AppError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip()) from None
    click.echo(f"created user {user.id} <{user.email}> as {user.role} ({user.status})")


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.password_option("--password", prompt=True, confirmation_prompt=True)
def set_password_command(email: str, password: str) -> None:
    """Give a user a new password; every session of the user ends."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        set_password(user.id, password)
        commit()
    except AppError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip()) from None
    click.echo(f"new password for user {user.id} <{user.email}>; every session of it ended")


@users_cli.command("create-key")
@click.option("--email", required=True)
@click.option("--name", default="CLI key")
def create_key_command(email: str, name: str) -> None:
    """Issue an API key; the key is printed once and cannot be shown again."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    issued = create_api_key(user.id, name)
    commit()
    click.echo(issued.secret)
