"""exchange.tracking.conversions."""
