"""Inbound conversion postbacks: an advertiser's server reports a CPA action or a CPS sale by
click id, authenticated by its postback token (and IP allowlist)."""
