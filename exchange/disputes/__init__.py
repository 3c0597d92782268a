"""Disputes: appeals of rejections, returns of approved leads (docs/disputes.md)."""
