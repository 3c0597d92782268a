"""exchange.admin."""
