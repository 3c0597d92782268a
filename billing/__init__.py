"""Money: the double-entry ledger, payouts, checks (DESIGN §5)."""
