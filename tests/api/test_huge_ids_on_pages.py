"""Numbers past what the pages can hold are refused, never a 500. Every portal route that
takes a database id takes it through the app's bounded ``<id:...>`` converter: an id larger
than any primary key (a typo, a probe) is not found (404), not an error from the database
driver ("Python int too large"). A leads filter "until" 9999-12-31 (whose next day, the
filter's end, does not exist) is refused at the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.bounds import MAX_ID
from exchange.extensions import db
from exchange.longjobs.models import LongTask
from tests.api.test_web_portal import login, request
from tests.factories import auth, make_key, make_user

HUGE = 10**30

ROUTES = [
    ("advertiser", "GET", "/advertiser/offers/{id}"),
    ("advertiser", "POST", "/advertiser/offers/{id}"),
    ("advertiser", "POST", "/advertiser/keys/{id}/revoke"),
    ("advertiser", "GET", "/advertiser/leads/{id}"),
    ("advertiser", "POST", "/advertiser/leads/{id}/approve"),
    ("advertiser", "POST", "/advertiser/leads/{id}/reject"),
    ("advertiser", "POST", "/advertiser/leads/{id}/return"),
    ("advertiser", "GET", "/advertiser/disputes/{id}"),
    ("advertiser", "POST", "/advertiser/disputes/{id}/answer"),
    ("advertiser", "POST", "/advertiser/disputes/{id}/messages"),
    ("advertiser", "POST", "/advertiser/disputes/{id}/withdraw"),
    ("webmaster", "GET", "/webmaster/offers/{id}"),
    ("webmaster", "POST", "/webmaster/offers/{id}/join"),
    ("webmaster", "POST", "/webmaster/leads/{id}/appeal"),
    ("webmaster", "POST", "/webmaster/keys/{id}/revoke"),
    ("webmaster", "GET", "/webmaster/disputes/{id}"),
    ("webmaster", "POST", "/webmaster/disputes/{id}/answer"),
    ("webmaster", "POST", "/webmaster/disputes/{id}/messages"),
    ("webmaster", "POST", "/webmaster/disputes/{id}/withdraw"),
    ("webmaster", "GET", "/webmaster/postbacks/offers/{id}"),
    ("webmaster", "POST", "/webmaster/postbacks/offers/{id}"),
    ("webmaster", "POST", "/webmaster/postbacks/offers/{id}/test"),
    ("moderator", "GET", "/moderator/disputes/{id}"),
    ("moderator", "POST", "/moderator/disputes/{id}/decide"),
    ("moderator", "POST", "/moderator/disputes/{id}/messages"),
    ("moderator", "POST", "/moderator/partners/{id}/approve"),
    ("moderator", "POST", "/moderator/fraud-reviews/{id}/clear"),
    ("admin", "POST", "/admin/users/{id}/deactivate"),
    ("admin", "POST", "/admin/payouts/{id}/settle"),
    ("admin", "GET", "/admin/payouts/batches/{id}.csv"),
    ("admin", "POST", "/admin/payouts/batches/{id}/settle"),
]


@pytest.mark.parametrize("huge", [HUGE, MAX_ID + 1], ids=["far-too-large", "one-past-the-largest"])
@pytest.mark.parametrize(("role", "method", "path"), ROUTES, ids=[f"{m} {p}" for _, m, p in ROUTES])
def test_an_id_past_any_primary_key_is_not_found(app, client, ctx, role, method, path, huge):
    user = make_user(role)
    assert login(app, client, user.email).status_code == 302

    response = request(app, client, method, path.format(id=huge), data={"body": "hello", "answer": "concede"})

    assert response.status_code == 404


# -- the last day a leads filter takes ---------------------------------------------------------


def test_a_leads_export_until_the_last_day_of_the_calendar_is_not_started(app, client, ctx):
    advertiser = make_user("advertiser")
    assert login(app, client, advertiser.email).status_code == 302

    answer = request(app, client, "POST", "/exports/leads", data={"until": "9999-12-31"})

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/advertiser/leads")
    flashed = request(app, client, "GET", "/advertiser/leads").text
    assert "Not started" in flashed and "9999-12-30" in flashed
    assert db.session.scalar(select(func.count()).select_from(LongTask)) == 0


def test_the_inbox_until_the_last_day_of_the_calendar_says_so_at_the_field(app, client, ctx):
    advertiser = make_user("advertiser")
    assert login(app, client, advertiser.email).status_code == 302

    page = request(app, client, "GET", "/advertiser/leads?until=9999-12-31")

    assert page.status_code == 422  # the filters' field messages, as for any filter not understood
    assert "9999-12-30" in page.text  # the last day it takes


@pytest.mark.parametrize("huge", [HUGE, MAX_ID + 1])
def test_marking_a_notification_past_any_id_as_read_is_not_found(client, ctx, huge):
    key = make_key(make_user("advertiser"))

    response = client.post(f"/api/v1/notifications/{huge}/read", headers=auth(key))

    assert response.status_code == 404
