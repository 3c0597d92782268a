"""exchange.delivery.leads."""
