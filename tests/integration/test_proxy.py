"""Behind a reverse proxy (PROXY_HOPS=1) clicks record the visitor's address
and tracking links carry the public scheme and host; without it, forwarded
headers are not believed."""

from __future__ import annotations

from sqlalchemy import select

from exchange.extensions import db
from exchange.tracking.models import Click
from tests.factories import auth, make_join, make_key, make_offer, make_user

FORWARDED = {
    "X-Forwarded-For": "203.0.113.50",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "track.example.com",
}


def click_and_link(app) -> tuple[str, str]:
    with app.app_context():
        webmaster = make_user("webmaster")
        participation = make_join(webmaster, make_offer(make_user("advertiser")))
        token, key, offer_id = participation.token, make_key(webmaster), participation.offer_id
    client = app.test_client()
    assert client.get(f"/c/{token}", headers=FORWARDED).status_code == 302
    link = client.post(f"/api/v1/offers/{offer_id}/join", headers={**auth(key), **FORWARDED})
    with app.app_context():
        ip = db.session.scalar(select(Click.ip).order_by(Click.id.desc()))
    return ip, link.get_json()["tracking_link"]


def test_behind_one_proxy_the_forwarded_client_and_host_are_used(live_app_factory):
    ip, link = click_and_link(live_app_factory(PROXY_HOPS=1, SERVER_NAME=None))
    assert ip == "203.0.113.50"
    assert link.startswith("https://track.example.com/c/")


def test_without_a_proxy_forwarded_headers_are_ignored(live_app_factory):
    ip, link = click_and_link(live_app_factory(PROXY_HOPS=0, SERVER_NAME=None))
    assert ip == "127.0.0.1"
    assert not link.startswith("https://track.example.com")
