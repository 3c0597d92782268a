"""What a person does for itself: sign up as an advertiser or a webmaster, confirm its
address by the link mailed to it, set a new password when it forgot its own, and change
its names, time zone, language and password (docs/accounts.md). Services flush and queue
their mails for the commit; the caller commits.

Nothing here tells a stranger whether an address has an account: signing up with an
address that has one mails its owner instead, and asking for a link for an unknown
address answers as for a known one."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash

from exchange import clock
from exchange.accounts.models import User
from exchange.accounts.passwords import password_problem
from exchange.accounts.services import create_user, set_password
from exchange.accounts.tokens import CONFIRM_EMAIL, RESET_PASSWORD, link_token, user_of
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.mail import Mail, send_after_commit

SIGN_UP_ROLES = ("advertiser", "webmaster")
LOCALES = ("en", "ru")
NAME_LENGTH, COMPANY_LENGTH = 120, 200


def sign_up(form: dict) -> None:
    """A new account waiting for its address to be confirmed (a webmaster waits for a
    moderator's approval too), and the link mailed; 422 naming each field that is wrong.
    An address that has an account already gets a mail saying so, and nothing is made."""
    email = (form.get("email") or "").strip().lower()
    role = form.get("role") or ""
    name, company = (form.get("name") or "").strip(), (form.get("company_name") or "").strip()
    problems: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 254:
        problems["email"] = ["An email address, such as you@example.com."]
    if problem := password_problem(form.get("password") or ""):
        problems["password"] = [problem]
    if role not in SIGN_UP_ROLES:
        problems["role"] = ["Advertiser (you buy leads) or webmaster (you send them)."]
    problems.update(_name_problems(name, company))
    if form.get("terms") not in ("on", "true", True):
        problems["terms"] = ["Accept the terms to open an account."]
    if problems:
        raise Invalid("The sign-up is not complete.", fields=problems)
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None:
        send_after_commit(_already_mail(existing))
        return
    user = create_user(email, name, role, form["password"], company_name=company, confirmed=False)
    user.terms_accepted_at = clock.now()
    send_after_commit(confirmation_mail(user))


def confirm_email(token: str) -> User:
    """The user whose address the link confirms (``tokens.BadLink`` if it does not)."""
    user = user_of(token, CONFIRM_EMAIL)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
    return user


def send_confirmation_again(email: str) -> None:
    """A new link to an address that waits for confirmation; nothing for any other."""
    user = _user_by_email(email)
    if user is not None and user.email_confirmed_at is None:
        send_after_commit(confirmation_mail(user))


def ask_for_password_reset(email: str) -> None:
    """A link to set a new password, to the address of an account that may sign in."""
    user = _user_by_email(email)
    if user is not None and user.is_active_user:
        link = url_for("accounts.reset_password", token=link_token(user, RESET_PASSWORD), _external=True)
        send_after_commit(
            Mail(
                user.email,
                "Set a new password",
                f"Someone, probably you, asked to set a new password for {user.email} on the lead "
                f"exchange.\n\nSet it here (the link works for an hour, once):\n{link}\n\n"
                "If it was not you, do nothing: your password stays as it is.\n",
            )
        )


def reset_password(token: str, password: str) -> User:
    """The new password set (every session ends); the link worked, so the address is
    confirmed too."""
    user = user_of(token, RESET_PASSWORD)
    set_password(user.id, password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
    return user


def update_profile(user: User, form: dict) -> None:
    """Names, time zone and language; 422 naming each field that is wrong."""
    name, company = (form.get("name") or "").strip(), (form.get("company_name") or "").strip()
    time_zone, locale = form.get("time_zone") or "UTC", form.get("locale") or ""
    problems = _name_problems(name, company)
    if time_zone not in available_timezones():
        problems["time_zone"] = ["An IANA time zone, such as Europe/Moscow."]
    if locale and locale not in LOCALES:
        problems["locale"] = [f"One of {', '.join(LOCALES)}, or the browser's."]
    if problems:
        raise Invalid("The settings are not valid.", fields=problems)
    user.name, user.company_name = name, company or None
    user.time_zone, user.locale = time_zone, locale or None


def change_password(user: User, current: str, new: str) -> None:
    """A new password for one who knows the present one (every session ends)."""
    if not check_password_hash(user.password_hash, current):
        raise Invalid("The password was not changed.", fields={"current_password": ["Not your password."]})
    set_password(user.id, new)


def confirmation_mail(user: User) -> Mail:
    link = url_for("accounts.confirm_email_link", token=link_token(user, CONFIRM_EMAIL), _external=True)
    return Mail(
        user.email,
        "Confirm your address",
        f"Welcome to the lead exchange, {user.name}.\n\nConfirm that {user.email} is yours "
        f"(the link works for 3 days):\n{link}\n\nThen sign in. If you did not sign up, do nothing.\n",
    )


def _already_mail(user: User) -> Mail:
    link = url_for("accounts.forgot_password", _external=True)
    return Mail(
        user.email,
        "You already have an account",
        f"Someone, probably you, tried to sign up with {user.email}, which has an account "
        f"already.\n\nSign in with it, or set a new password if you forgot yours:\n{link}\n",
    )


def _name_problems(name: str, company: str) -> dict[str, list[str]]:
    problems = {}
    if not name or len(name) > NAME_LENGTH:
        problems["name"] = [f"Your name or your handle, at most {NAME_LENGTH} characters."]
    if len(company) > COMPANY_LENGTH:
        problems["company_name"] = [f"At most {COMPANY_LENGTH} characters."]
    return problems


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
