"""bench/soak.py's look at the database and Redis: the world it drives, what still waits,
and what of the answered was stored, lost or doubled."""

from __future__ import annotations

import redis
from flask import Flask
from flask_migrate import upgrade
from rq import Queue
from sqlalchemy import text

from exchange import jobs
from exchange.extensions import db
from exchange.tracking.buffer import BUFFER_KEY, PROCESSING_KEY
from tests.factories import fund, make_join, make_key, make_offer, make_user

ADVERTISERS, WEBMASTERS = 2, 4


def prepare(app: Flask) -> dict:
    """Migrate; empty Redis; advertisers (funded, an offer each with a one-second hold: their
    approved leads' payouts soon available), webmasters who joined both offers, an admin."""
    with app.app_context():
        upgrade()
        redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()
        advertisers, offers = [], []
        for _ in range(ADVERTISERS):
            advertiser = make_user("advertiser")
            fund(advertiser, 50_000_000)
            offers.append(
                make_offer(advertiser, hold_seconds=1, return_window_seconds=0, duplicate_window_seconds=0)
            )
            advertisers.append({"id": advertiser.id, "key": make_key(advertiser)})
        webmasters = [
            {"key": make_key(webmaster), "tokens": [make_join(webmaster, offer).token for offer in offers]}
            for webmaster in (make_user("webmaster") for _ in range(WEBMASTERS))
        ]
        world = {
            "advertisers": advertisers,
            "webmasters": webmasters,
            "offers": [offer.id for offer in offers],
        }
        world["admin"] = make_key(make_user("admin"))
        db.session.remove()
        return world


def waiting(app: Flask) -> int:
    """Clicks not yet flushed, jobs not yet run, leads not yet validated."""
    with app.app_context():
        r = redis.Redis.from_url(app.config["REDIS_URL"])
        clicks = r.llen(BUFFER_KEY) + sum(r.llen(key) for key in r.scan_iter(PROCESSING_KEY.format("*")))
        queued = sum(Queue(name, connection=r).count for name in jobs.QUEUES if name != "auctions")
        received = db.session.execute(text("SELECT count(*) FROM leads WHERE status = 'received'")).scalar()
        db.session.remove()
        return clicks + queued + received


def count(
    app: Flask, clicks: set[str], leads: dict[str, int], decided: dict[int, str], payouts: dict
) -> dict:
    """What the database holds of what was answered."""
    with app.app_context():
        stored_clicks = _counts("SELECT sub1, count(*) FROM clicks GROUP BY sub1")
        stored_leads = _counts("SELECT idempotency_key, count(*) FROM leads GROUP BY 1")
        consumers = _counts("SELECT email_key, count(*) FROM leads GROUP BY 1")  # one a request
        statuses = _counts("SELECT id, status FROM leads")
        validations = _counts(
            "SELECT lead_id, count(*) FROM lead_events WHERE from_status = 'received' GROUP BY 1"
        )
        by_advertisers = _counts(
            "SELECT lead_id, count(*) FROM lead_events"
            " WHERE action IN ('approve', 'reject') AND actor_kind = 'api_key' GROUP BY 1"
        )
        stored_payouts = _counts("SELECT idempotency_key, count(*) FROM payouts GROUP BY 1")
        db.session.remove()
    decided_ids = [lead_id for lead_id in leads.values() if statuses.get(lead_id) not in (None, "received")]
    lost = {
        "clicks": sum(1 for sub in clicks if sub not in stored_clicks),
        "leads": sum(1 for key in leads if key not in stored_leads),
        "undecided": len(leads) - len(decided_ids),
        "decisions": sum(1 for lead_id in decided if lead_id not in by_advertisers),
        "payouts": sum(1 for key in payouts if key not in stored_payouts),
    }
    doubled = {
        "clicks": sum(n - 1 for n in stored_clicks.values()),
        "leads": sum(n - 1 for n in consumers.values()),
        "validations": sum(n - 1 for n in validations.values()),
        "decisions": sum(n - 1 for n in by_advertisers.values()),
        "payouts": sum(n - 1 for key, n in stored_payouts.items() if key is not None),
    }
    return {
        "clicks_stored": len(clicks) - lost["clicks"],
        "leads_decided": len(decided_ids),
        "lost": sum(lost.values()),
        "doubled": sum(doubled.values()),
        "details": f"lost {lost}, doubled {doubled}",
    }


def _counts(sql: str) -> dict:
    return dict(db.session.execute(text(sql)).all())
