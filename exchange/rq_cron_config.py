"""Loaded by ``rq cron exchange.rq_cron_config``: registers ``PERIODIC_JOBS``."""

from exchange.periodic import register_with_rq_cron

register_with_rq_cron()
