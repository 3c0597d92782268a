"""Pure rules of selling through the hosted form: what the consumer agrees to, and which
consent certificates the form takes."""

from __future__ import annotations

import re

MAX_CERTIFICATE = 200  # lead_consents.certificate
# TrustedForm: the certificate's URL, a SHA-1 in hex under cert.trustedform.com.
TRUSTEDFORM = re.compile(r"https://cert\.trustedform\.com/[0-9a-f]{40}")
# Jornaya (Verisk): a LeadiD token, shaped as a UUID.
JORNAYA = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def consent_text(vertical_name: str, slots: int) -> str:
    """The consent shown beside the form's checkbox: the vertical by name, and how many
    companies may buy the request (a vertical of more than one slot shares it)."""
    buyers = "one company" if slots == 1 else f"up to {slots} companies"
    return (
        f"I agree to be contacted about \u201c{vertical_name}\u201d by phone or email by {buyers} "
        "that offer it, with the details I entered, and I may withdraw this at any time."
    )


def certificate_problem(certificate: str) -> str | None:
    """Why ``certificate`` is not a consent certificate's id the form takes, or None."""
    if len(certificate) > MAX_CERTIFICATE:
        return f"Longer than {MAX_CERTIFICATE} characters."
    if TRUSTEDFORM.fullmatch(certificate) or JORNAYA.fullmatch(certificate):
        return None
    return "Not a TrustedForm certificate URL nor a Jornaya LeadiD token."


def country_problem(country: str | None, allowed: list[str]) -> str | None:
    """Why a consumer of ``country`` may not be sold on a vertical of ``allowed`` countries
    (empty: any), or None. An empty country is the schema's concern (required or not)."""
    if not country or not allowed or country.upper() in allowed:
        return None
    return f"We take requests from {', '.join(allowed)} only."
