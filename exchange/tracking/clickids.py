"""Signed click ids. Pure.

A click id proves, without a database look-up, which offer, webmaster and
participation a click belongs to and when it happened, so a lead can be
attributed before the click's row is written (clicks are buffered).

Layout (base64url, no padding): version (1 byte), offer id, webmaster id,
participation id, Unix time (4 bytes each, big-endian), 6 random bytes;
then ``.`` and the first 12 bytes of an HMAC-SHA256 over those bytes with
a key derived from the application's secret. 48 characters in all.

A click on a seller's vertical link (``/v/<token>``) has the same layout
with version 2 and, in the three id slots, the vertical, the webmaster and
the vertical seller. The version is signed with the rest, so one kind can
never pass for the other: ``verify`` knows offer clicks only (every caller
that attributes to an offer or a participation sees None for a vertical
click), ``verify_vertical`` vertical clicks only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
VERTICAL_VERSION = 2
_LAYOUT = struct.Struct(">BIIII6s")
_SIGNATURE_BYTES = 12
MAX_LENGTH = 64


@dataclass(frozen=True)
class ClickClaims:
    offer_id: int
    webmaster_id: int
    participation_id: int
    clicked_at: datetime  # naive UTC, whole seconds


@dataclass(frozen=True)
class VerticalClickClaims:
    vertical_id: int
    webmaster_id: int
    vertical_seller_id: int
    clicked_at: datetime  # naive UTC, whole seconds


@functools.lru_cache(maxsize=8)
def derive_key(secret_key: str) -> bytes:
    """A key used for click ids only, so a leaked click signature says nothing of others."""
    return hmac.new(secret_key.encode(), b"exchange click ids v1", hashlib.sha256).digest()


def issue(key: bytes, offer_id: int, webmaster_id: int, participation_id: int, at: datetime) -> str:
    return _issue(key, VERSION, (offer_id, webmaster_id, participation_id), at)


def issue_vertical(
    key: bytes, vertical_id: int, webmaster_id: int, vertical_seller_id: int, at: datetime
) -> str:
    return _issue(key, VERTICAL_VERSION, (vertical_id, webmaster_id, vertical_seller_id), at)


def verify(key: bytes, click_id: str) -> ClickClaims | None:
    """The claims of a genuine offer click id; None for anything forged, altered or
    malformed, and for a vertical click id."""
    opened = _open(key, click_id, VERSION)
    return ClickClaims(*opened) if opened else None


def verify_vertical(key: bytes, click_id: str) -> VerticalClickClaims | None:
    """The claims of a genuine vertical click id; None for anything else (offer click ids too)."""
    opened = _open(key, click_id, VERTICAL_VERSION)
    return VerticalClickClaims(*opened) if opened else None


def _issue(key: bytes, version: int, ids: tuple[int, int, int], at: datetime) -> str:
    stamp = int(at.replace(tzinfo=UTC).timestamp())
    body = _LAYOUT.pack(version, *ids, stamp, secrets.token_bytes(6))
    return f"{_b64(body)}.{_b64(_sign(key, body))}"


def _open(key: bytes, click_id: str, expected_version: int) -> tuple[int, int, int, datetime] | None:
    if not isinstance(click_id, str) or len(click_id) > MAX_LENGTH or click_id.count(".") != 1:
        return None
    encoded_body, encoded_signature = click_id.split(".")
    try:
        body, signature = _unb64(encoded_body), _unb64(encoded_signature)
    except (binascii.Error, ValueError):
        return None
    if len(body) != _LAYOUT.size or _b64(body) != encoded_body:  # one spelling per id
        return None
    if not hmac.compare_digest(signature, _sign(key, body)):
        return None
    version, first, webmaster_id, third, stamp, _nonce = _LAYOUT.unpack(body)
    if version != expected_version:
        return None
    clicked_at = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
    return first, webmaster_id, third, clicked_at


def _sign(key: bytes, body: bytes) -> bytes:
    mac = _keyed_mac(key).copy()
    mac.update(body)
    return mac.digest()[:_SIGNATURE_BYTES]


@functools.lru_cache(maxsize=8)
def _keyed_mac(key: bytes) -> hmac.HMAC:
    """An HMAC already keyed with ``key``: copying it skips hashing the key for every id."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not all(ch.isalnum() or ch in "-_" for ch in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
