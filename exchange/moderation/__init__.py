"""Moderation: partner approvals and bans, the fraud review queue, reputation, the audit log."""
