"""Verticals: the kinds of lead sold on the exchange, their fields, floors, margin and slots; which sellers may submit to each."""
