"""The catalog of ready leads: what the auction did not sell, priced by age (docs/exchange.md)."""
