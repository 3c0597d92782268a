"""Payouts: webmasters' available money requested (on demand or on a schedule) and paid by
a rail, Stripe Connect or a manual batch. ``services`` holds the verbs; ``domain`` the
pure rules; ``settings``, ``schedule``, ``connect``, ``batches`` one job each; ``models``
the tables; ``api`` and ``jobs`` translate HTTP and jobs."""
