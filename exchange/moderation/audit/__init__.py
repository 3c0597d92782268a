"""exchange.moderation.audit.services."""
