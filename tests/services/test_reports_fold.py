"""The report fold on real PostgreSQL, racing the writers it folds: clicks (buffered on
Redis and flushed, and written directly), leads submitted, validated and decided, all
in threads of their own while folds run; once the last markers are folded the rollups
equal a rebuild from the raw rows."""

from __future__ import annotations

import random

import redis
from sqlalchemy import func, select, text

from exchange import clock
from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, reject_lead
from exchange.leads.intake import submit_lead
from exchange.leads.models import Lead
from exchange.reports.models import ReportChange
from exchange.reports.rollup import check, fold, rebuild
from exchange.tracking import buffer
from exchange.tracking.links import target_of
from exchange.tracking.models import Click
from exchange.tracking.services import record_click
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.services.test_concurrency import race

ROUNDS = 15


def daily_rows() -> list[tuple]:
    rows = db.session.execute(
        text("SELECT * FROM report_daily ORDER BY bucket, offer_id, webmaster_id, sub1, country")
    )
    return [tuple(row)[1:] for row in rows]  # without the row id


def test_folds_racing_clicks_and_leads_end_equal_to_a_rebuild(live_app_factory, redis_url):
    options = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12, "max_overflow": 4}}
    app = live_app_factory(**options)  # jobs in-process: a lead is validated at its commit
    buffered = live_app_factory(REDIS_URL=redis_url, **options)
    with app.app_context():
        advertiser = make_user("advertiser")
        fund(advertiser, 10**9)
        participations = []
        for n in range(2):
            offer = make_offer(advertiser, rate_minor=1500 + n, payout_minor=1000)
            for _ in range(2):
                participations.append(make_join(make_user("webmaster"), offer))
        targets = [target_of(p) for p in participations]
        tokens = [p.token for p in participations]
        webmasters = [(p.webmaster_id, p.offer_id) for p in participations]
        advertiser_id = advertiser.id
    r = redis.Redis.from_url(redis_url)

    def direct_clicks(seed: int) -> int:
        chance = random.Random(seed)
        for _ in range(ROUNDS):
            target = chance.choice(targets)
            record_click(
                target, {"sub1": chance.choice(["a", "b", ""])}, f"203.0.113.{chance.randrange(9)}", "ua"
            )
            commit()
        return ROUNDS

    def buffered_clicks(seed: int) -> int:
        chance, client = random.Random(seed), buffered.test_client()
        for _ in range(ROUNDS):
            token = chance.choice(tokens)
            response = client.get(
                f"/c/{token}?sub1={chance.choice(['a', 'c'])}", headers={"User-Agent": "ua"}
            )
            assert response.status_code == 302
        return ROUNDS

    def flush(_seed: int) -> int:
        with buffered.app_context():
            return sum(buffer.drain(r) for _ in range(ROUNDS))

    def leads(seed: int) -> int:
        chance = random.Random(seed)
        for n in range(ROUNDS):
            webmaster_id, offer_id = chance.choice(webmasters)
            payload = {
                "offer_id": offer_id,
                "fields": lead_fields(seed * 1000 + n),
                "sub1": chance.choice(["a", "b"]),
            }
            lead = submit_lead(webmaster_id, payload, Actor(kind="user", user_id=webmaster_id)).lead
            commit()  # validated in-process: pending
            decide = chance.choice([approve_lead, reject_lead, None])
            if decide is not None:
                decide(
                    lead.id,
                    Actor(kind="user", user_id=advertiser_id),
                    **({} if decide is approve_lead else {"note": "no"}),
                )
                commit()
        return ROUNDS

    def folds(_seed: int) -> int:
        return sum(fold(limit=7) for _ in range(ROUNDS))

    work = {
        "direct": direct_clicks,
        "buffered": buffered_clicks,
        "flush": flush,
        "leads": leads,
        "fold": folds,
    }
    arguments = [
        ("direct", 1),
        ("direct", 2),
        ("buffered", 3),
        ("buffered", 4),
        ("flush", 5),
        ("leads", 6),
        ("leads", 7),
        ("fold", 8),
        ("fold", 9),
    ]
    outcomes = race(app, lambda argument: work[argument[0]](argument[1]), arguments)

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    with buffered.app_context():
        buffer.drain(r)
    with app.app_context():
        while fold():
            pass
        assert db.session.scalar(select(func.count()).select_from(ReportChange)) == 0
        assert db.session.scalar(select(func.count()).select_from(Click)) == 2 * ROUNDS * 2
        statuses = set(db.session.scalars(select(Lead.status)))
        assert {"approved", "rejected", "pending"} <= statuses
        today = clock.now().date()
        assert check(today, today) == []
        folded = daily_rows()
        db.session.rollback()
        rebuild()
        assert daily_rows() == folded
        result = app.test_cli_runner().invoke(args=["reports", "check"])
        assert result.exit_code == 0, result.output


def test_check_names_a_difference_and_the_cli_exits_1(live_app):
    with live_app.app_context():
        participation = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))
        record_click(target_of(participation), {"sub1": "x"}, "203.0.113.1", "ua")
        commit()
        assert fold() == 1
        db.session.execute(text("UPDATE report_daily SET clicks = clicks + 1"))
        commit()

        assert len(check(clock.now().date(), clock.now().date())) == 1
        result = live_app.test_cli_runner().invoke(args=["reports", "check"])
        assert result.exit_code == 1
        assert "report_daily" in result.output
        assert "clicks=2" in result.output and "clicks=1" in result.output
