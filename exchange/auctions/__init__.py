"""Auctions: for each accepted exchange lead, the eligible buy orders, their bids, the
winners, the posts, and the log that replays the decision."""
