"""The mail sender (exchange/mail/): in the embedded mode each mail is a file under the
instance folder and a log line; in production it goes to an SMTP server — here a real one
on 127.0.0.1 that keeps what it is given; and a mail is sent only once what it tells
is committed."""

from __future__ import annotations

import logging

import pytest

from exchange.config import ConfigError, load_config
from exchange.db import commit, rollback
from exchange.mail import Mail, send, send_after_commit
from tests.mail_server import MailServer

MAIL = Mail("ann@example.test", "Confirm your address", "Open this link: http://x.test/confirm/abc\n")


def test_the_file_backend_writes_each_mail_and_logs_where(live_app_factory, tmp_path, caplog):
    app = live_app_factory(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path / "mail"))
    caplog.set_level(logging.INFO, logger="exchange.mail")

    with app.app_context():
        send(MAIL)

    (path,) = (tmp_path / "mail").glob("*.eml")
    written = path.read_text()
    assert "To: ann@example.test" in written and "Subject: Confirm your address" in written
    assert "http://x.test/confirm/abc" in written
    assert f"mail to ann@example.test: Confirm your address ({path})" in caplog.text


def test_the_smtp_backend_hands_the_mail_to_the_server(live_app_factory):
    with MailServer() as server:
        app = live_app_factory(**server.app_config(), MAIL_FROM="Exchange <no-reply@exchange.test>")
        with app.app_context():
            send(MAIL)

        (mail,) = server.mails
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "Exchange <no-reply@exchange.test>",
        "ann@example.test",
        "Confirm your address",
    )
    assert mail.get_content().replace("\r\n", "\n") == MAIL.body  # SMTP ends lines with CRLF


def test_the_smtp_backend_signs_in_when_given_a_user(live_app_factory):
    with MailServer(login=("mailer", "s3cret")) as server:
        signed_in = live_app_factory(
            **server.app_config(), MAIL_SMTP_USER="mailer", MAIL_SMTP_PASSWORD="s3cret"
        )
        anonymous = live_app_factory(**server.app_config())
        with signed_in.app_context():
            send(MAIL)
        with anonymous.app_context(), pytest.raises(Exception, match="Authentication required"):
            send(MAIL)

        assert len(server.mails) == 1


def test_a_mail_is_sent_after_the_commit_and_never_after_a_rollback(live_app_factory):
    with MailServer() as server:
        app = live_app_factory(**server.app_config())
        with app.app_context():
            send_after_commit(Mail("rolled@example.test", "Never", "rolled back"))
            rollback()
            send_after_commit(MAIL)
            assert server.mails == [], "nothing leaves before the commit"
            commit()

        assert [mail["To"] for mail in server.wait_for(1)] == ["ann@example.test"]


@pytest.mark.parametrize("name, value", [("MAIL_BACKEND", "pigeon"), ("MAIL_SMTP_SECURITY", "tls1")])
def test_an_unknown_mail_setting_is_refused_at_start(tmp_path, name, value):
    with pytest.raises(ConfigError, match=f"{name} must be one of"):
        load_config(str(tmp_path), {name: value})


def test_production_sends_over_smtp_and_the_embedded_mode_writes_files(tmp_path, monkeypatch):
    for name in ("MAIL_BACKEND", "EXCHANGE_ENV"):
        monkeypatch.delenv(name, raising=False)
    services = {
        "SECRET_KEY": "k" * 64,
        "SQLALCHEMY_DATABASE_URI": "postgresql://db/x",
        "REDIS_URL": "redis://r/0",
    }

    production = load_config(str(tmp_path), {"EXCHANGE_ENV": "production", **services})

    assert production["MAIL_BACKEND"] == "smtp"
    assert load_config(str(tmp_path))["MAIL_BACKEND"] == "file"
