"""The hosted vertical form's pure rules: its consent text, the certificates it takes,
and the countries it refuses."""

from __future__ import annotations

import pytest

from exchange.selling.domain import certificate_problem, consent_text, country_problem


def test_the_consent_names_the_vertical_and_how_many_may_buy():
    assert "\u201cSolar \u2014 US\u201d" in consent_text("Solar \u2014 US", 3)
    assert "up to 3 companies" in consent_text("Solar", 3)
    assert "by one company" in consent_text("Solar", 1)


@pytest.mark.parametrize(
    "certificate",
    [
        "https://cert.trustedform.com/" + "0123456789abcdef0123456789abcdef01234567",
        "C9A5C3C7-3F5D-E5B7-1B4D-5F0DBE7A2A6F",
        "c9a5c3c7-3f5d-e5b7-1b4d-5f0dbe7a2a6f",
    ],
)
def test_trustedform_urls_and_jornaya_tokens_are_taken(certificate):
    assert certificate_problem(certificate) is None


@pytest.mark.parametrize(
    "certificate",
    [
        "https://cert.trustedform.com/abc",  # not a certificate id
        "http://cert.trustedform.com/" + "0" * 40,  # not https
        "https://cert.trustedform.com.evil.example/" + "0" * 40,
        "https://cert.trustedform.com/" + "0" * 40 + "?x=1",
        "C9A5C3C7-3F5D-E5B7-1B4D",
        "hello",
        "x" * 201,
    ],
)
def test_anything_else_is_refused_with_a_reason(certificate):
    assert certificate_problem(certificate)


@pytest.mark.parametrize(
    ("country", "allowed", "refused"),
    [("US", ["US", "CA"], False), ("us", ["US"], False), ("DE", ["US", "CA"], True), ("DE", [], False)],
)
def test_a_country_outside_the_verticals_is_refused(country, allowed, refused):
    assert bool(country_problem(country, allowed)) is refused
