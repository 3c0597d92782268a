"""The mail's job (exchange/mail)."""

from __future__ import annotations

from exchange.jobs import job
from exchange.mail import Mail, send


@job
def send_job(to: str, subject: str, body: str) -> str:
    """One mail sent (retried by the queue when the server refuses or cannot be reached)."""
    return send(Mail(to, subject, body))
