"""Partner moderation: approving new webmasters, banning and unbanning them; their standing."""
