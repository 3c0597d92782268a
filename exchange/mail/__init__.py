"""Mail to people: an address to confirm, a password to reset.

A mail is sent by a job after the commit of what it tells (``send_after_commit``): a
sign-up rolled back sends nothing, and a mail server that is down delays the mail (the
job is retried) without failing the request. How it leaves is ``MAIL_BACKEND``:

- ``file`` (the embedded default): each mail is written to ``MAIL_FILE_DIR`` (default
  ``instance/mail/``) as an ``.eml`` file, and its recipient, subject and path are logged,
  so that a developer reads it there or in the console;
- ``smtp`` (production's default): to ``MAIL_SMTP_HOST``:``MAIL_SMTP_PORT``, with
  ``MAIL_SMTP_SECURITY`` ``starttls`` (default), ``ssl`` or ``none``, and a login when
  ``MAIL_SMTP_USER`` is set.

Every mail comes from ``MAIL_FROM``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

from exchange import clock
from exchange.jobs import enqueue_after_commit

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str  # plain text


def send_after_commit(mail: Mail) -> None:
    """Send ``mail`` once the current transaction commits (never if it rolls back)."""
    enqueue_after_commit("exchange.mail.jobs.send_job", mail.to, mail.subject, mail.body, queue="delivery")


def send(mail: Mail) -> str:
    """Send ``mail`` now by the configured backend; says where it went."""
    config = current_app.config
    message = _message(mail, config["MAIL_FROM"])
    if config["MAIL_BACKEND"] == "smtp":
        _over_smtp(message, config)
        where = f"smtp {config['MAIL_SMTP_HOST']}:{config['MAIL_SMTP_PORT']}"
    else:
        where = str(
            _to_file(message, Path(config["MAIL_FILE_DIR"] or Path(current_app.instance_path) / "mail"))
        )
    log.info("mail to %s: %s (%s)", mail.to, mail.subject, where)
    return f"sent to {mail.to} by {where}"


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _over_smtp(message: EmailMessage, config) -> None:
    host, port, security = (
        config["MAIL_SMTP_HOST"],
        int(config["MAIL_SMTP_PORT"]),
        config["MAIL_SMTP_SECURITY"],
    )
    if security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with server:
        if security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if config.get("MAIL_SMTP_USER"):
            server.login(config["MAIL_SMTP_USER"], config.get("MAIL_SMTP_PASSWORD") or "")
        server.send_message(message)


def _to_file(message: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{message['Message-ID'].strip('<>').split('@')[0]}.eml"
    path.write_bytes(bytes(message))
    return path
