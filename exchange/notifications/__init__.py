"""exchange.notifications.services."""
