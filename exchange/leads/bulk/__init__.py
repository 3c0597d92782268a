"""exchange.leads.bulk."""
