"""Tracking links and clicks."""
