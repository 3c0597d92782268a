"""The admins' portal: its pages in ``views/`` (users, manual credits, payouts and batches, the
ledger check, failed jobs) and the failed jobs' registry (``failed_jobs``, also ``flask jobs``)."""
