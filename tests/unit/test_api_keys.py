"""API keys: ``lx_<prefix>_<secret>``, stored as a SHA-256 of the whole key."""

from __future__ import annotations

import hashlib
import re

import pytest

from exchange.accounts.domain import generate_key, hash_key, key_matches, split_key

KEY = re.compile(r"^lx_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")  # token_hex(4); token_urlsafe(32) is 43 chars


def test_a_generated_key_has_the_documented_format():
    key = generate_key()
    match = KEY.match(key.full)
    assert match, key.full
    assert match.groups() == (key.prefix, key.secret)


def test_generated_keys_are_different_every_time():
    keys = [generate_key() for _ in range(50)]
    assert len({k.full for k in keys}) == 50
    assert len({k.secret for k in keys}) == 50


def test_the_digest_is_the_sha256_of_the_whole_key():
    key = generate_key()
    assert key.digest == hashlib.sha256(key.full.encode()).hexdigest()
    assert key.digest == hash_key(key.full)
    assert re.fullmatch(r"[0-9a-f]{64}", key.digest)


def test_the_digest_is_not_the_key_and_does_not_contain_the_secret():
    key = generate_key()
    assert key.digest != key.full
    assert key.secret not in key.digest
    assert key.digest != hash_key(key.secret)  # the prefix and scheme are part of what is hashed


def test_split_key_returns_the_prefix_of_a_generated_key():
    key = generate_key()
    assert split_key(key.full) == key.prefix


def test_split_key_keeps_underscores_in_the_secret():
    assert split_key("lx_0123abcd_se_cr_et") == "0123abcd"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "lx",
        "lx_",
        "lx_0123abcd",
        "lx_0123abcd_",  # no secret
        "xx_0123abcd_secret",  # another scheme
        "LX_0123abcd_secret",
        "lx_0123abc_secret",  # 7-character prefix
        "lx_0123abcde_secret",  # 9-character prefix
        "lx__secret",
        "0123abcd_secret",
        "Bearer lx_0123abcd_secret",
    ],
)
def test_split_key_refuses_malformed_keys(value):
    assert split_key(value) is None


def test_key_matches_the_digest_of_the_same_key():
    key = generate_key()
    assert key_matches(key.full, key.digest) is True


def test_key_matches_refuses_another_key_and_near_misses():
    key = generate_key()
    other = generate_key()
    assert key_matches(other.full, key.digest) is False
    assert key_matches(key.full[:-1], key.digest) is False
    assert key_matches(key.full + "x", key.digest) is False
    assert key_matches(key.full.upper(), key.digest) is False
    assert key_matches(key.secret, key.digest) is False


def test_key_matches_refuses_the_key_given_as_its_own_digest():
    key = generate_key()
    assert key_matches(key.full, key.full) is False
