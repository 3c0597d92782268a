"""What a password must be: at least ``MIN_LENGTH`` characters and not one of the most
common passwords (zxcvbn's list of 30,000, in any letter case)."""

from __future__ import annotations

import functools

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"At least {MIN_LENGTH} characters."
    if password.lower() in _common():
        return "Too common: it is on the list of the most used passwords."
    return None


@functools.cache
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])
