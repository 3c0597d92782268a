"""A step of the first ones a new account's dashboard shows (each portal lists its own):
a page to go to, why, and whether it is done. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    label: str
    endpoint: str
    explanation: str
    done: bool = False
