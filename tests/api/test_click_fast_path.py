"""The WSGI fast path for ``GET /c/<token>`` answers exactly what the Flask route
answers (status, headers, body; only the click id differs), records the same
click, and leaves to Flask everything it does not answer itself."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from exchange.db import commit
from exchange.extensions import db
from exchange.offers.services import update_offer
from exchange.tracking import views
from exchange.tracking.fastpath import ClickFastPath
from exchange.tracking.models import Click
from tests.factories import make_join, make_offer, make_user

CLICK_ID = re.compile(r"[A-Za-z0-9_-]{31}\.[A-Za-z0-9_-]{16}")
REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # made by the app when the caller sends none
HOSTILE = 'x&cid=forged#frag "<b>"\r\nSet-Cookie: a=b ü'


@pytest.fixture
def flask_client(app, client):
    """The same test client, answered by the Flask route itself (past the fast path)."""
    fast_path = app.wsgi_app
    assert isinstance(fast_path, ClickFastPath)

    class RouteOnly:
        def __getattr__(self, method: str):
            def call(*args, **kwargs):
                app.wsgi_app = fast_path.wsgi_app
                try:
                    return getattr(client, method)(*args, **kwargs)
                finally:
                    app.wsgi_app = fast_path

            return call

    return RouteOnly()


def link(**offer_overrides) -> str:
    offer = make_offer(make_user("advertiser"), **offer_overrides)
    return make_join(make_user("webmaster"), offer).token


def answer(response) -> tuple:
    """A response with its click id and its request id blanked: the things two clicks do
    not share (the request id is there, made as the app makes it)."""
    blank = lambda text: CLICK_ID.sub("<click id>", text)  # noqa: E731
    headers = [
        (name, "<request id>" if name == "X-Request-ID" and REQUEST_ID.fullmatch(value) else blank(value))
        for name, value in response.headers.items()
    ]
    return response.status, headers, blank(response.get_data(as_text=True))


def last_click() -> Click:
    return db.session.scalar(select(Click).order_by(Click.id.desc()).limit(1))


def click_columns(click: Click) -> tuple:
    return (
        click.offer_id,
        click.participation_id,
        click.sub1,
        click.sub2,
        click.sub5,
        click.params,
        click.ip,
        click.user_agent,
        click.country,
        click.trafficback_reason,
    )


def both(client, flask_client, path: str, **request) -> tuple:
    """The fast path's answer and click, then the Flask route's, for the same request."""
    fast = client.get(path, **request)
    fast_click = last_click()
    slow = flask_client.get(path, **request)
    return (answer(fast), fast_click), (answer(slow), last_click())


def test_a_redirect_is_the_routes_own_with_hostile_subs_encoded(client, flask_client, ctx):
    token = link(landing_url="https://Landing.Example.com/q?cid={click_id}&s={sub1}&w={webmaster_id}#top")
    query = {"sub1": HOSTILE, "sub2": "two", "sub9": HOSTILE, "gclid": "a b", "cid": "forged"}

    (fast, fast_click), (slow, slow_click) = both(
        client, flask_client, f"/c/{token}", query_string=query, headers={"User-Agent": "UA/1"}
    )

    assert fast == slow
    status, headers, _ = fast
    assert status == "302 FOUND"
    assert dict(headers)["Cache-Control"] == "no-store"
    location = dict(headers)["Location"]
    assert location.startswith("https://landing.example.com/q?cid=<click id>&s=x%26cid%3Dforged%23frag")
    assert not set('\r\n "<>') & set(location.replace("<click id>", ""))
    assert fast_click.id != slow_click.id
    assert click_columns(fast_click) == click_columns(slow_click)
    assert fast_click.sub1 == HOSTILE
    assert fast_click.params == {"sub9": HOSTILE, "gclid": "a b", "cid": "forged"}


def test_a_repeated_parameter_counts_with_its_first_value_on_both_paths(client, flask_client, ctx):
    token = link()

    (fast, fast_click), (slow, slow_click) = both(client, flask_client, f"/c/{token}?sub1=a&sub1=b&k=1&k=2")

    assert fast == slow
    assert (fast_click.sub1, fast_click.params) == ("a", {"k": "1"})
    assert click_columns(fast_click) == click_columns(slow_click)


def test_a_trafficback_redirect_is_the_routes_own(client, flask_client, ctx):
    token = link(allowed_countries=["US"], trafficback_url="https://back.example.net/t?c={click_id}&s={sub1}")
    from_germany = {"REMOTE_ADDR": "193.99.144.80"}

    (fast, fast_click), (slow, slow_click) = both(
        client, flask_client, f"/c/{token}?sub1=x y", environ_base=from_germany
    )

    assert fast == slow
    assert dict(fast[1])["Location"] == "https://back.example.net/t?c=<click id>&s=x%20y"
    assert (fast_click.country, fast_click.trafficback_reason) == ("DE", "geo_not_allowed")
    assert click_columns(fast_click) == click_columns(slow_click)


def test_the_plain_page_of_an_offer_not_taking_traffic_is_the_routes_own(client, flask_client, ctx):
    offer = make_offer(make_user("advertiser"))
    token = make_join(make_user("webmaster"), offer).token
    update_offer(offer.advertiser_id, offer.id, {"status": "paused"})
    commit()

    (fast, fast_click), (slow, slow_click) = both(client, flask_client, f"/c/{token}?sub1=a")

    assert fast == slow
    status, headers, body = fast
    assert (status, dict(headers)["Content-Type"], body) == ("200 OK", "text/plain", views.NOT_TAKING_TRAFFIC)
    assert "Location" not in dict(headers)
    assert fast_click.trafficback_reason == slow_click.trafficback_reason == "not_taking_traffic"


@pytest.mark.parametrize("accept", [None, "text/html"])
def test_an_unknown_link_gets_flasks_own_not_found_page(client, flask_client, ctx, accept):
    headers = {"Accept": accept} if accept else {}
    before = db.session.scalar(select(func.count()).select_from(Click))

    fast = client.get("/c/no-such-token", headers=headers)
    slow = flask_client.get("/c/no-such-token", headers=headers)

    assert fast.status_code == 404
    assert answer(fast) == answer(slow)
    assert db.session.scalar(select(func.count()).select_from(Click)) == before


@pytest.mark.parametrize("path", ["/c/", "/c/a.b", "/c/abc/", "/c/abc/extra", "/c/" + "x" * 65])
def test_paths_of_other_shapes_are_left_to_flask(client, flask_client, ctx, path):
    assert answer(client.get(path)) == answer(flask_client.get(path))


def test_head_and_other_methods_are_left_to_flask(client, flask_client, ctx):
    token = link()
    assert answer(client.head(f"/c/{token}")) == answer(flask_client.head(f"/c/{token}"))
    assert answer(client.post(f"/c/{token}")) == answer(flask_client.post(f"/c/{token}"))


def test_clicks_do_not_go_through_flasks_dispatch(app, client, ctx, monkeypatch):
    token = link()

    def no_dispatch():
        raise AssertionError("a click went through Flask's full dispatch")

    monkeypatch.setattr(app, "full_dispatch_request", no_dispatch)

    assert client.get(f"/c/{token}?sub1=fast").status_code == 302
    assert last_click().sub1 == "fast"


def test_an_error_is_answered_and_logged_as_flask_does(client, flask_client, ctx, monkeypatch, caplog):
    token = link()

    def broken(*args, **kwargs):
        raise RuntimeError("the click store is on fire")

    monkeypatch.setattr(views, "record_click", broken)

    fast, slow = client.get(f"/c/{token}"), flask_client.get(f"/c/{token}")

    assert fast.status_code == 500
    assert answer(fast) == answer(slow)
    assert [r.message for r in caplog.records].count(f"unhandled error on GET /c/{token}") == 2


def test_behind_a_proxy_the_fast_path_records_the_forwarded_visitor(live_app_factory, monkeypatch):
    app = live_app_factory(PROXY_HOPS=1, SERVER_NAME=None)
    with app.app_context():
        token = link(allowed_countries=["US"], trafficback_url="https://back.example.net/t?c={click_id}")
    monkeypatch.setattr(app, "full_dispatch_request", lambda: pytest.fail("not the fast path"))

    response = app.test_client().get(f"/c/{token}", headers={"X-Forwarded-For": "193.99.144.80"})

    assert response.headers["Location"].startswith("https://back.example.net/t?c=")
    with app.app_context():
        assert (last_click().ip, last_click().country) == ("193.99.144.80", "DE")


def test_a_click_returns_the_callers_request_id_as_every_answer_does(client, ctx):
    """docs/operations.md, "Logs": the fast path answers X-Request-ID as the app does."""
    token = link()

    given = client.get(f"/c/{token}", headers={"X-Request-ID": "edge-9.1"})
    made = client.get(f"/c/{token}")

    assert given.status_code == made.status_code == 302
    assert given.headers["X-Request-ID"] == "edge-9.1"
    assert REQUEST_ID.fullmatch(made.headers["X-Request-ID"])
