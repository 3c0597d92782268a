"""Verticals: the kinds of lead sold on the exchange (fields, floors, margin, slots)
and which sellers may submit to each."""
