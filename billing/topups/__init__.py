"""billing.topups.services."""
