"""The fixed list of reason codes a lead can carry (documented in docs/leads.md)."""

REASONS = {
    "schema_invalid": "A field is missing or not of the offer's type.",
    "duplicate": "The same phone or email reached this offer within its duplicate window.",
    "geo_mismatch": "The lead's country is not one the offer accepts.",
    "offer_paused": "The offer was not taking leads when the lead was validated.",
    "cap_reached": "The offer's daily or monthly cap (in all, or for this webmaster) was full.",
    "amount_too_small": "The reported sale is too small for its share to pay the webmaster anything.",
    "advertiser_rejected": "The advertiser rejected the lead during its review window.",
}
