"""The fixed list of reason codes a lead can carry (documented in docs/leads.md).

A code names a finding of a check; most findings reject the lead, some only
flag it (recorded with negative points, see docs/leads.md). The parts of the
score are listed in ``SCORE_PARTS``."""

REASONS = {
    "schema_invalid": "A field is missing or not of the offer's type.",
    "duplicate": "The same phone or email reached this offer within its duplicate window.",
    "geo_mismatch": "The lead's country, its IP's or its phone's is not one the offer accepts.",
    "offer_paused": "The offer was not taking leads when the lead was validated.",
    "cap_reached": "The offer's daily or monthly cap (in all, or for this webmaster) was full.",
    "amount_too_small": "The reported sale is too small for its share to pay the webmaster anything.",
    "invalid_phone": "The phone cannot be a number (rejected), or is in no range known in use (flag).",
    "invalid_email": "The email address is not well-formed.",
    "disposable_email": "The email address is at a throwaway-address provider.",
    "click_not_found": "The click id does not belong to this webmaster and offer.",
    "click_expired": "The click is older than the offer's attribution window.",
    "click_too_fast": "The lead came sooner after its click than the offer's minimum (flag).",
    "ip_velocity": "More leads from this IP within an hour than the offer allows (flag).",
    "bot_user_agent": "A crawler's or automation tool's user agent (rejected), or none at all (flag).",
    "below_min_temperature": "The lead's score is colder than the offer's minimum temperature.",
    "advertiser_rejected": "The advertiser rejected the lead during its review window.",
    "webmaster_banned": "A moderator banned the webmaster before the lead was validated.",
    "fraud_review_rejected": "A moderator rejected the lead that validation held for fraud review.",
}

SCORE_PARTS = {
    "fields_complete": "Share of the offer's fields filled in.",
    "click_to_lead": "Time from the click to the lead.",
    "phone_type": "The phone's line type.",
    "source_history": "The webmaster's approval rate with this advertiser.",
}
