"""exchange.offers.participation.services."""
