"""exchange.delivery.postbacks."""
