"""API keys: how they look, how they are stored. Pure, no framework.

A key reads ``lx_<prefix>_<secret>``. The prefix is stored in clear so a
user can tell keys apart; only a SHA-256 of the whole key is kept. Keys are
random and long, so a fast hash is enough (a password hash is not needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

ROLES = ("advertiser", "webmaster", "moderator", "admin")
USER_STATUSES = ("active", "pending", "banned")
KEY_SCHEME = "lx"


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret: str
    full: str
    digest: str


def generate_key() -> NewKey:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    full = f"{KEY_SCHEME}_{prefix}_{secret}"
    return NewKey(prefix=prefix, secret=secret, full=full, digest=hash_key(full))


def hash_key(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


def split_key(full_key: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def key_matches(full_key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(hash_key(full_key), stored_digest)
