"""Who may send traffic to an offer: joining, approval, decline, ban, invitations, custom payouts."""
