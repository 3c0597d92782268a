"""Signed click ids. Pure.

A click id proves, without a database look-up, which offer, webmaster and
participation a click belongs to and when it happened, so a lead can be
attributed before the click's row is written (clicks are buffered).

Layout (base64url, no padding): version (1 byte), offer id, webmaster id,
participation id, Unix time (4 bytes each, big-endian), 6 random bytes;
then ``.`` and the first 12 bytes of an HMAC-SHA256 over those bytes with
a key derived from the application's secret. 48 characters in all.
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
_LAYOUT = struct.Struct(">BIIII6s")
_SIGNATURE_BYTES = 12
MAX_LENGTH = 64


@dataclass(frozen=True)
class ClickClaims:
    offer_id: int
    webmaster_id: int
    participation_id: int
    clicked_at: datetime  # naive UTC, whole seconds


@functools.lru_cache(maxsize=8)
def derive_key(secret_key: str) -> bytes:
    """A key used for click ids only, so a leaked click signature says nothing of others."""
    return hmac.new(secret_key.encode(), b"exchange click ids v1", hashlib.sha256).digest()


def issue(key: bytes, offer_id: int, webmaster_id: int, participation_id: int, at: datetime) -> str:
    stamp = int(at.replace(tzinfo=UTC).timestamp())
    body = _LAYOUT.pack(VERSION, offer_id, webmaster_id, participation_id, stamp, secrets.token_bytes(6))
    return f"{_b64(body)}.{_b64(_sign(key, body))}"


def verify(key: bytes, click_id: str) -> ClickClaims | None:
    """The claims of a genuine click id; None for anything forged, altered or malformed."""
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
    version, offer_id, webmaster_id, participation_id, stamp, _nonce = _LAYOUT.unpack(body)
    if version != VERSION:
        return None
    clicked_at = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
    return ClickClaims(offer_id, webmaster_id, participation_id, clicked_at)


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
