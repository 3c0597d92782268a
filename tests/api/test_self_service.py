"""Self-service accounts (issue 20, point 3), driven with the test client; the mail is read
from a real SMTP server on 127.0.0.1 (tests/mail_server.py). Sign up, confirm the address
by the link mailed, sign in; a webmaster still waits for a moderator; forgotten passwords;
the account's settings. Nothing tells a stranger whether an address has an account."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from exchange.accounts.models import User
from exchange.extensions import db
from tests.api.test_web_portal import PASSWORD, login, request
from tests.factories import make_user
from tests.mail_server import MailServer

NEW_PASSWORD = "a brand new passphrase"
FORM = {
    "role": "advertiser",
    "email": "Ann@Solar.test",
    "password": "sunny-days-ahead",
    "name": "Ann Lee",
    "company_name": "Solar & Sons",
    "terms": "on",
}


@pytest.fixture
def mailbox(app, monkeypatch):
    """The app's mail goes to a real SMTP server on 127.0.0.1 for this test."""
    with MailServer() as server:
        for name, value in server.app_config().items():
            monkeypatch.setitem(app.config, name, value)
        yield server


def post(app, client, path: str, form: dict):
    return request(app, client, "POST", path, data=form)


def link_in(mail, path: str) -> str:
    """The path of the link to ``path…`` in a mail (as the test client asks for it)."""
    url = re.search(rf"http://exchange\.test({re.escape(path)}\S+)", mail.get_content()).group(1)
    return url


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_an_advertiser_signs_up_confirms_its_address_and_signs_in(app, client, ctx, mailbox):
    signed_up = post(app, client, "/signup", FORM)

    assert signed_up.status_code == 200
    assert "ann@solar.test" in signed_up.get_data(as_text=True) and "Check your mail" in signed_up.get_data(
        as_text=True
    )
    ann = user("ann@solar.test")
    assert (ann.role, ann.name, ann.company_name, ann.status) == (
        "advertiser",
        "Ann Lee",
        "Solar & Sons",
        "active",
    )
    assert ann.email_confirmed_at is None and ann.terms_accepted_at is not None
    refused = login(app, client, "ann@solar.test", FORM["password"])
    assert refused.status_code == 403
    assert "Confirm your address first" in unescape(refused.get_data(as_text=True))

    (mail,) = mailbox.wait_for(1)
    assert (mail["To"], mail["Subject"]) == ("ann@solar.test", "Confirm your address")
    confirmed = request(app, client, "GET", link_in(mail, "/confirm/"))

    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/login")
    assert user("ann@solar.test").email_confirmed_at is not None
    assert login(app, client, "ann@solar.test", FORM["password"]).headers["Location"].endswith("/advertiser/")


def test_a_webmaster_confirmed_still_waits_for_a_moderator(app, client, ctx, mailbox):
    post(app, client, "/signup", FORM | {"role": "webmaster", "email": "wes@traffic.test"})
    (mail,) = mailbox.wait_for(1)

    request(app, client, "GET", link_in(mail, "/confirm/"))

    assert user("wes@traffic.test").status == "pending"
    assert login(app, client, "wes@traffic.test", FORM["password"]).status_code == 302
    home = unescape(request(app, client, "GET", "/webmaster/").get_data(as_text=True))
    assert "Your account waits for a moderator's approval." in home


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "qwerty123456"}, "password"),
        ({"role": "admin"}, "role"),
        ({"role": "moderator"}, "role"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"company_name": "x" * 201}, "company_name"),
        ({"terms": ""}, "terms"),
    ],
)
def test_a_sign_up_that_is_not_complete_is_422_with_its_field_and_makes_nothing(
    app, client, ctx, mailbox, change, field
):
    before = users()

    refused = post(app, client, "/signup", FORM | change)

    assert refused.status_code == 422
    assert f'id="{field}-error"' in refused.get_data(as_text=True)
    assert "sunny-days-ahead" not in refused.get_data(as_text=True), "the password is not sent back"
    assert users() == before
    assert mailbox.wait_for(1, seconds=0.5) == []


def test_signing_up_with_an_address_that_has_an_account_mails_its_owner_and_makes_nothing(
    app, client, ctx, mailbox
):
    owner = make_user("webmaster")
    before = users()

    answered = post(app, client, "/signup", FORM | {"email": owner.email.upper()})

    assert answered.status_code == 200 and "Check your mail" in answered.get_data(as_text=True)
    assert users() == before
    (mail,) = mailbox.wait_for(1)
    assert (mail["To"], mail["Subject"]) == (owner.email, "You already have an account")
    assert "/password/forgot" in mail.get_content()


def test_a_confirmation_link_changed_or_too_old_does_nothing(app, client, ctx, mailbox, frozen_clock):
    frozen_clock.set(datetime(2026, 3, 1, 12))
    post(app, client, "/signup", FORM)
    (mail,) = mailbox.wait_for(1)
    path = link_in(mail, "/confirm/")

    changed = request(app, client, "GET", path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    frozen_clock.set(datetime(2026, 3, 1, 12) + timedelta(days=3, seconds=2))
    too_old = request(app, client, "GET", path)

    assert changed.status_code == 400 and "It is not one of ours" in unescape(changed.get_data(as_text=True))
    assert too_old.status_code == 400 and "It is too old." in too_old.get_data(as_text=True)
    assert user("ann@solar.test").email_confirmed_at is None


def test_a_new_confirmation_link_is_sent_on_request_and_only_to_an_unconfirmed_address(
    app, client, ctx, mailbox
):
    post(app, client, "/signup", FORM)
    confirmed = make_user("advertiser")
    mailbox.wait_for(1)

    for email in ("ann@solar.test", confirmed.email, "nobody@nowhere.test"):
        answered = post(app, client, "/confirm", {"email": email})
        assert answered.status_code == 200 and "Check your mail" in answered.get_data(as_text=True)

    mails = mailbox.wait_for(2)
    assert [mail["To"] for mail in mails] == ["ann@solar.test", "ann@solar.test"]


def test_a_forgotten_password_is_set_again_by_the_link_mailed_once(app, client, ctx, mailbox):
    ann = make_user("advertiser")
    asked = post(app, client, "/password/forgot", {"email": ann.email})
    stranger = post(app, client, "/password/forgot", {"email": "nobody@nowhere.test"})
    assert asked.get_data(as_text=True).replace(ann.email, "X") == stranger.get_data(as_text=True).replace(
        "nobody@nowhere.test", "X"
    ), "the answer is the same for an address with no account"
    (mail,) = mailbox.wait_for(1)
    assert mailbox.wait_for(2, seconds=0.5) == [mail]
    path = link_in(mail, "/password/reset/")

    too_short = post(app, client, path, {"password": "short"})
    set_again = post(app, client, path, {"password": NEW_PASSWORD})
    used_again = post(app, client, path, {"password": "yet another passphrase"})

    assert too_short.status_code == 422 and 'id="password-error"' in too_short.get_data(as_text=True)
    assert set_again.status_code == 303 and set_again.headers["Location"].endswith("/login")
    assert used_again.status_code == 400, "the password it replaced is gone: the link is dead"
    assert login(app, client, ann.email, PASSWORD).status_code == 401
    assert login(app, client, ann.email, NEW_PASSWORD).status_code == 302


def test_the_settings_change_names_time_zone_and_language(app, client, ctx):
    ann = make_user("advertiser")
    assert login(app, client, ann.email).status_code == 302
    form = {"action": "profile", "name": "Ann", "company_name": "Solar & Sons", "time_zone": "Europe/Moscow"}

    saved = post(app, client, "/account", form | {"locale": "ru"})
    refused = post(app, client, "/account", form | {"time_zone": "Mars/Olympus", "locale": "xx"})

    assert saved.status_code == 303
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="time_zone-error"' in text and 'id="locale-error"' in text
    ann = user(ann.email)
    assert (ann.name, ann.company_name, ann.time_zone, ann.locale) == (
        "Ann",
        "Solar & Sons",
        "Europe/Moscow",
        "ru",
    )
    assert 'href="/account"' in request(app, client, "GET", "/advertiser/").get_data(as_text=True)


def test_the_password_is_changed_only_with_the_present_one(app, client, ctx):
    ann = make_user("webmaster")
    assert login(app, client, ann.email).status_code == 302

    wrong = post(
        app, client, "/account", {"action": "password", "current_password": "nope", "password": NEW_PASSWORD}
    )
    right = post(
        app,
        client,
        "/account",
        {"action": "password", "current_password": PASSWORD, "password": NEW_PASSWORD},
    )

    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.get_data(as_text=True)
    assert right.status_code == 303
    assert request(app, client, "GET", "/webmaster/").status_code == 302, "every session ended"
    assert login(app, client, ann.email, NEW_PASSWORD).status_code == 302


def test_sign_ups_from_one_address_are_limited(app, client, ctx, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "LIMIT_SIGN_UP_PER_ADDRESS", "2 per hour")
    answers = [post(app, client, "/signup", FORM | {"email": f"n{n}@x.test"}).status_code for n in range(3)]

    assert answers == [200, 200, 429]
    assert user("n2@x.test") is None


def test_a_sign_up_needs_the_csrf_token(app, client, ctx, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    assert post(app, client, "/signup", FORM).status_code == 400
    assert user("ann@solar.test") is None
