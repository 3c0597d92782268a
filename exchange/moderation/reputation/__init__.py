"""exchange.moderation.reputation.services."""
