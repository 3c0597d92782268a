"""Characters no column can store: NUL (refused by PostgreSQL) and lone
UTF-16 surrogates (which cannot be encoded as UTF-8). Pure."""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """``text`` without the characters no column can store."""
    return _UNSTORABLE.sub("", text)


def first_unstorable(data: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) in ``data`` that cannot be stored."""
    if isinstance(data, str):
        return None if is_storable(data) else (path or "(body)")
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_storable(key):
                return where
            found = first_unstorable(value, where)
            if found:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = first_unstorable(value, f"{path}[{index}]")
            if found:
                return found
    return None


def deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects in ``data`` nest more than ``limit`` levels (looked at
    without recursion, so that any depth can be asked about)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False
