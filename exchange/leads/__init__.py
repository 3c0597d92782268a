"""Leads: intake, the state machine, validation, decisions."""
