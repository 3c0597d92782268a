"""What erasing a consumer's data means, as plain Python: the keyed hashes of a contact,
the values to look for in free text and how they are overwritten, the counts an erasure
records. Pure."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

ERASED = "[erased]"
CONTACT_KINDS = ("email", "phone")
CAUSES = ("request", "retention")
# Free text shorter than this is not looked for elsewhere: "Al" or "NY" would erase too much.
MIN_SEARCHED_LENGTH = 4
# Decided leads: nothing more will be decided about them, so their data is no longer needed
# once the retention period (and any window still open on them) has passed.
DECIDED_OFFER_STATES = ("approved", "rejected", "returned")
DECIDED_EXCHANGE_STATES = ("sold", "unsold", "rejected")


def hash_key(secret_key: str) -> bytes:
    """The key of the contact hashes, derived from the app's SECRET_KEY (never the key itself)."""
    return hmac.new(secret_key.encode(), b"exchange consumer hashes v1", hashlib.sha256).digest()


def contact_hash(key: bytes, kind: str, normalised: str | None) -> str | None:
    """HMAC-SHA256 of a normalised contact (``kind`` is email or phone); None for none."""
    if not normalised:
        return None
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def searched_values(fields: dict, *contacts: str | None) -> list[str]:
    """What a lead's personal data looks like in free text: each submitted value and the
    normalised contacts, longest first (so a name is not erased inside a longer email)."""
    values = {str(value).strip() for value in fields.values() if value is not None}
    values |= {contact for contact in contacts if contact}
    return sorted((v for v in values if len(v) >= MIN_SEARCHED_LENGTH and v != ERASED), key=len, reverse=True)


def redact(text: str | None, values: Iterable[str]) -> str | None:
    """``text`` with every occurrence of ``values`` (any case) overwritten with ERASED."""
    if not text:
        return text
    lowered = text.lower()
    for value in values:
        needle = value.lower()
        if needle not in lowered:
            continue
        pieces, start = [], 0
        while (found := lowered.find(needle, start)) >= 0:
            pieces.append(text[start:found] + ERASED)
            start = found + len(needle)
        text = "".join(pieces) + text[start:]
        lowered = text.lower()
    return text


def redact_json(value: Any, values: Iterable[str]) -> Any:
    """A JSON value (as stored) with ``values`` overwritten in its text, keys included."""
    if value is None:
        return None
    dumped = json.dumps(value, ensure_ascii=False)
    redacted = redact(dumped, values)
    return value if redacted == dumped else json.loads(redacted)


def redact_bytes(data: bytes | None, values: Iterable[str]) -> bytes | None:
    """A stored file (UTF-8 text, such as an export's CSV) with ``values`` overwritten."""
    if not data:
        return data
    text = data.decode("utf-8", errors="replace")
    redacted = redact(text, values)
    return data if redacted == text else redacted.encode()


def erased_fields(fields: dict) -> dict:
    """Every submitted value overwritten: which fields there were stays, not what they said."""
    return {name: ERASED for name in fields}


class Counts(dict):
    """Rows changed per table by one erasure: ``counts.add("leads", 3)``; zeros are left out."""

    def add(self, table: str, rows: int) -> None:
        if rows:
            self[table] = self.get(table, 0) + rows

    @property
    def total(self) -> int:
        return sum(self.values())
