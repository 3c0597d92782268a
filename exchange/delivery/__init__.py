"""Outbound calls: webmaster postbacks (URL templates with macros), their retries and their log."""
