"""Characters no column can store: NUL (refused by PostgreSQL) and lone
UTF-16 surrogates (which cannot be encoded as UTF-8). Pure."""

from __future__ import annotations

from typing import Any


def is_storable(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def storable(text: str) -> str:
    """``text`` without the characters no column can store."""
    if is_storable(text):
        return text
    return "".join(ch for ch in text if ch != "\x00" and not 0xD800 <= ord(ch) <= 0xDFFF)


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
