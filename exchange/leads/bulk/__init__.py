"""Leads in bulk: advertisers' bulk decisions and the CSV export of leads."""
