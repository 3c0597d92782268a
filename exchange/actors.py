"""Who did something: recorded with every state change. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "api_key" or "system"
    user_id: int | None = None
    api_key_id: int | None = None
    label: str = ""

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(kind="system", label=label)
