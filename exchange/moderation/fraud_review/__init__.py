"""The fraud review queue: leads validation held for a moderator's verdict."""
