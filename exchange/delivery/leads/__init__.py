"""Accepted leads delivered to their advertiser's endpoint: the settings (with signing
secrets), signed POSTs with retries, the advertiser's decision in its answer, the test lead."""
