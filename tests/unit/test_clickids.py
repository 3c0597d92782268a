"""Signed click ids: genuine ones verify to their claims, anything else is None."""

from __future__ import annotations

from datetime import datetime

import pytest

from exchange.tracking.clickids import (
    ClickClaims,
    VerticalClickClaims,
    derive_key,
    issue,
    issue_vertical,
    verify,
    verify_vertical,
)

KEY = derive_key("the app secret")
AT = datetime(2026, 3, 1, 9, 30, 15)


def test_a_genuine_click_id_carries_offer_webmaster_participation_and_time():
    click_id = issue(KEY, offer_id=7, webmaster_id=42, participation_id=99, at=AT)
    assert verify(KEY, click_id) == ClickClaims(7, 42, 99, AT)
    assert len(click_id) <= 64


def test_two_clicks_of_one_link_in_one_second_get_different_ids():
    assert issue(KEY, 1, 2, 3, AT) != issue(KEY, 1, 2, 3, AT)


def test_another_secret_does_not_verify_it():
    assert verify(derive_key("another secret"), issue(KEY, 1, 2, 3, AT)) is None


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("index", range(0, 48, 3))
def test_changing_any_character_breaks_it(index):
    click_id = issue(KEY, 1, 2, 3, AT)
    assert verify(KEY, _flip(click_id, index)) is None


def test_a_claim_cannot_be_changed_by_re_encoding_the_body():
    """Forge: take a genuine id, change the webmaster in its body, keep the signature."""
    import base64
    import struct

    click_id = issue(KEY, 1, 2, 3, AT)
    body_text, signature = click_id.split(".")
    body = bytearray(base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4)))
    struct.pack_into(">I", body, 5, 666)  # webmaster id sits after version and offer id
    forged = base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode() + "." + signature
    assert verify(KEY, forged) is None


@pytest.mark.parametrize(
    "junk",
    [
        "",
        ".",
        "abc",
        "a.b.c",
        "x" * 65,
        "!!!!.????",
        "AQAAAAEAAAACAAAAA2lWYcDDpoLlaw8.",
        "\x00.\x00",
        None,
        42,
    ],
)
def test_malformed_input_is_none_never_an_exception(junk):
    assert verify(KEY, junk) is None


def test_a_vertical_click_id_carries_vertical_webmaster_seller_and_time():
    click_id = issue_vertical(KEY, vertical_id=3, webmaster_id=42, vertical_seller_id=17, at=AT)
    assert verify_vertical(KEY, click_id) == VerticalClickClaims(3, 42, 17, AT)
    assert len(click_id) <= 64


def test_one_kind_of_click_id_never_passes_for_the_other():
    """An offer's participation 17 and a vertical's seller 17 are different things: the
    offer paths (leads, postbacks, forms) must not read a vertical click as a participation's."""
    vertical_click = issue_vertical(KEY, 3, 42, 17, AT)
    offer_click = issue(KEY, 3, 42, 17, AT)
    assert verify(KEY, vertical_click) is None
    assert verify_vertical(KEY, offer_click) is None


def test_a_vertical_click_id_cannot_be_turned_into_an_offer_one_by_changing_its_version():
    import base64

    body_text, signature = issue_vertical(KEY, 3, 42, 17, AT).split(".")
    body = bytearray(base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4)))
    body[0] = 1
    forged = base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode() + "." + signature
    assert verify(KEY, forged) is None and verify_vertical(KEY, forged) is None


@pytest.mark.parametrize("junk", ["", "abc", "x" * 65, None, 42])
def test_malformed_vertical_click_ids_are_none(junk):
    assert verify_vertical(KEY, junk) is None
