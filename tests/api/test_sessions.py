"""Sessions that can be revoked: signing out, a new password, a deactivation or a ban end
every session of the user at once, a stolen cookie included; and what a password must be."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from exchange.accounts.models import User
from exchange.accounts.passwords import password_problem
from exchange.accounts.services import create_user, set_password
from exchange.actors import Actor
from exchange.admin.views.users import set_user_active
from exchange.db import commit
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.moderation.partners.services import ban_webmaster
from tests.api.test_web_portal import PASSWORD, login, request
from tests.factories import make_user

STAFF = Actor(kind="user", user_id=None, label="staff")


def signed_in(app, user: User):
    """A browser of its own (its own cookies), signed in as ``user``."""
    browser = app.test_client()
    assert login(app, browser, user.email).status_code == 302
    return browser


def home_of(user: User) -> str:
    return f"/{user.role}/"


def still_in(app, browser, user: User) -> bool:
    page = request(app, browser, "GET", home_of(user))
    if page.status_code == 302:
        assert urlsplit(page.headers["Location"]).path == "/login"
        return False
    assert page.status_code == 200
    return True


def test_signing_out_ends_every_session_of_the_user_a_copied_cookie_included(app, ctx):
    user = make_user("advertiser")
    laptop, phone = signed_in(app, user), signed_in(app, user)
    domain = app.config["SERVER_NAME"]
    stolen = laptop.get_cookie("session", domain=domain).value
    assert still_in(app, laptop, user) and still_in(app, phone, user)

    request(app, laptop, "POST", "/logout")

    assert not still_in(app, laptop, user)
    assert not still_in(app, phone, user)
    replay = app.test_client()
    replay.set_cookie("session", stolen, domain=domain)
    assert not still_in(app, replay, user)
    assert still_in(app, signed_in(app, user), user)  # signing in again works


@pytest.mark.parametrize("how", ["new password", "deactivated", "banned"])
def test_a_new_password_a_deactivation_or_a_ban_ends_every_session(app, ctx, how):
    user = make_user("webmaster")
    browser = signed_in(app, user)
    assert still_in(app, browser, user)

    if how == "new password":
        set_password(user.id, "a-new-long-passphrase")
    elif how == "deactivated":
        set_user_active(STAFF, user.id, False, "chargebacks")
    else:
        ban_webmaster(STAFF, user.id, "fake leads")
    commit()

    assert not still_in(app, browser, user)


def test_a_user_from_before_session_tokens_signs_in_and_gets_one(app, ctx):
    user = make_user("advertiser")
    user.session_token = None
    commit()

    browser = signed_in(app, user)

    assert still_in(app, browser, user)
    assert db.session.get(User, user.id, populate_existing=True).session_token


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pass1", "At least 12 characters."),
        ("password1234", "Too common: it is on the list of the most used passwords."),
        ("PASSWORD1234", "Too common: it is on the list of the most used passwords."),
        (PASSWORD, None),
        ("thirteen-char", None),
    ],
)
def test_a_password_is_long_and_not_a_common_one(password, problem):
    assert password_problem(password) == problem


def test_a_user_is_not_made_nor_given_a_password_that_fails_the_rules(ctx):
    with pytest.raises(Invalid) as refused:
        create_user("weak@example.test", "", "advertiser", "password1234")
    assert refused.value.fields == {"password": ["Too common: it is on the list of the most used passwords."]}
    user = make_user("advertiser")
    with pytest.raises(Invalid):
        set_password(user.id, "too-short")
