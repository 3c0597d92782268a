"""The contact hashes of a lead, under the app's key (docs/privacy.md, "What is kept").

Keyed (HMAC-SHA256 under a key derived from SECRET_KEY), not a plain SHA-256: the space of
phone numbers is small enough to hash them all, so a plain hash in a stolen copy of the
database would give the numbers back. The price: a new SECRET_KEY makes new hashes, so an
erased lead from before no longer counts as a duplicate (the leads still holding their
contacts are matched by those, see ``exchange.privacy.services.leads_of``)."""

from __future__ import annotations

from flask import current_app

from exchange.privacy.domain import contact_hash, hash_key


def hashed(kind: str, normalised: str | None) -> str | None:
    return contact_hash(hash_key(current_app.config["SECRET_KEY"]), kind, normalised)


def contact_hashes(email_key: str | None, phone_key: str | None) -> dict[str, str | None]:
    """``email_hash`` and ``phone_hash`` for a new lead's row."""
    return {"email_hash": hashed("email", email_key), "phone_hash": hashed("phone", phone_key)}
