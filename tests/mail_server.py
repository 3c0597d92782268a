"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every mail it is given, for the
tests to read: what a mail sender is tested against, in place of a mock."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class MailServer:
    """``with MailServer() as server:`` — ``server.port``; ``server.mails``; with
    ``login=(user, password)`` it asks for that login (over plain SMTP: loopback only)."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.mails: list[EmailMessage] = []
        self.login = login
        self.port = _free_port()
        options = {"auth_require_tls": False, "authenticator": self._authenticate} if login else {}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        if self.login and not session.authenticated:
            return "530 Authentication required"
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        given = (
            (auth_data.login.decode(), auth_data.password.decode())
            if isinstance(auth_data, LoginPassword)
            else None
        )
        return AuthResult(success=given == self.login)

    def app_config(self) -> dict:
        """The settings that send an app's mail here."""
        return {
            "MAIL_BACKEND": "smtp",
            "MAIL_SMTP_HOST": "127.0.0.1",
            "MAIL_SMTP_PORT": self.port,
            "MAIL_SMTP_SECURITY": "none",  # loopback only
        }

    def wait_for(self, count: int = 1, seconds: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.mails


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
