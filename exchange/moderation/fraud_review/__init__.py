"""exchange.moderation.fraud_review.services."""
