"""Offers and participation (which webmaster may send traffic where)."""
