"""exchange.moderation.partners.services."""
