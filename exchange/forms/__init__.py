"""Hosted lead forms: ``/f/<token>`` serves an offer's fields to visitors."""
