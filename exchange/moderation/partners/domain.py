"""A webmaster's standing: which moderator actions move it where, and what a webmaster
that may not send traffic is told. Pure: no framework, no database (docs/moderation.md).

    pending ──approve──> active ──ban──> banned ──unban──> active
    pending ──ban──> banned

A move to the status the webmaster already has is a no-op (approving an active webmaster,
banning a banned one, unbanning an active one): doing an action twice has one effect.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("approve", "ban", "unban")

# (current status, action) -> new status; a pair not listed is illegal.
MOVES = {
    ("pending", "approve"): "active",
    ("active", "approve"): "active",
    ("pending", "ban"): "banned",
    ("active", "ban"): "banned",
    ("banned", "ban"): "banned",
    ("banned", "unban"): "active",
    ("active", "unban"): "active",
}


class IllegalMove(ValueError):
    def __init__(self, status: str, action: str):
        super().__init__(f"A webmaster that is {status} cannot be {action_past(action)}.")
        self.status = status
        self.action = action


def action_past(action: str) -> str:
    return {"approve": "approved", "ban": "banned", "unban": "unbanned"}.get(action, action)


def next_status(status: str, action: str) -> str:
    """Where ``action`` takes a webmaster that is ``status``; the same status means no-op."""
    try:
        return MOVES[(status, action)]
    except KeyError:
        raise IllegalMove(status, action) from None


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def refusal(status: str, reason: str | None) -> Refusal | None:
    """Why an account that is ``status`` may not join offers or send leads; None if it may.
    An unknown status refuses too (fail closed)."""
    if status == "active":
        return None
    if status == "pending":
        return Refusal(
            "account_pending",
            "Your account is waiting for a moderator's approval; you can send traffic then.",
        )
    if status == "banned":
        why = f": {reason}" if reason else "."
        return Refusal("account_banned", f"Your account is banned{why}")
    return Refusal("account_inactive", "Your account may not send traffic.")
