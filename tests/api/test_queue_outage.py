"""Redis unreachable when a lead arrives: the lead is kept, the answer is
202, and the sweep validates it later. Nothing is lost, nothing doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.periodic import sweep
from exchange.tracking.models import Click
from tests.factories import auth, fund, lead_fields, make_click, make_join, make_key, make_offer, make_user

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(app):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = DEAD_REDIS
    yield
    app.config["REDIS_URL"] = saved


def test_a_click_is_written_directly_when_its_buffer_is_unreachable(client, ctx, redis_down):
    participation = make_join(make_user("webmaster"), make_offer(make_user("advertiser")))

    response = client.get(f"/c/{participation.token}?sub1=kept")

    assert response.status_code == 302
    assert ctx.scalar(select(Click.sub1)) == "kept"


def test_a_lead_survives_an_unreachable_queue_and_the_sweep_validates_it(
    app, client, ctx, frozen_clock, redis_down
):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser)
    fund(advertiser, 10_000)
    click = make_click(make_join(webmaster, offer))  # written directly: the buffer is down too

    response = client.post(
        "/api/v1/leads",
        json={"click_id": click.click_id, "fields": lead_fields()},
        headers=auth(make_key(webmaster)),
    )

    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "received"
    lead_id = response.get_json()["id"]

    app.config["REDIS_URL"] = None  # the sweep's re-enqueue runs in-process here
    frozen_clock.advance(seconds=app.config["STUCK_RECEIVED_SECONDS"] - 1)
    assert sweep().requeued == 0
    frozen_clock.advance(seconds=2)
    assert sweep().requeued == 1

    assert db.session.get(Lead, lead_id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1
