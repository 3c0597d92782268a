"""Reputation of advertisers and webmasters, from lead transitions and disputes."""
