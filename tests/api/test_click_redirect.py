"""GET /c/<token>: record the click and redirect to the offer's own landing page (DESIGN §2.3)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from exchange.accounts.models import User
from exchange.extensions import db
from exchange.tracking.models import Click
from tests.factories import auth, make_join, make_key, make_offer, make_user

LANDING = "https://landing.example.com/q?cid={click_id}&s={sub1}"


def clicks(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Click).where(*where))


def joined(**offer_overrides):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    offer = make_offer(advertiser, landing_url=LANDING, **offer_overrides)
    return offer, make_join(webmaster, offer)


def test_a_click_is_recorded_and_redirected_with_its_id_and_subs(client, ctx):
    offer, participation = joined()
    before = clicks()

    response = client.get(f"/c/{participation.token}?sub1=a%20b&sub2=x")

    assert response.status_code == 302
    location = response.headers["Location"]
    target = urlsplit(location)
    assert (target.scheme, target.netloc, target.path) == ("https", "landing.example.com", "/q")
    assert "s=a%20b" in target.query  # URL-encoded, not a raw space
    query = parse_qs(target.query)
    assert query["s"] == ["a b"]
    assert clicks() == before + 1
    click = db.session.scalar(select(Click).where(Click.participation_id == participation.id))
    assert query["cid"] == [click.click_id]
    assert (click.sub1, click.sub2, click.sub3) == ("a b", "x", None)
    assert click.offer_id == offer.id
    assert click.webmaster_id == participation.webmaster_id


def test_a_sub_id_cannot_add_parameters_or_change_the_target(client, ctx):
    _, participation = joined()
    sneaky = "x&cid=forged#frag"

    response = client.get(f"/c/{participation.token}", query_string={"sub1": sneaky})

    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "landing.example.com"
    assert target.fragment == ""
    query = parse_qs(target.query)
    assert query["s"] == [sneaky]
    click = db.session.scalar(select(Click).where(Click.participation_id == participation.id))
    assert query["cid"] == [click.click_id]
    assert set(query) == {"cid", "s"}


def test_every_click_gets_its_own_id(client, ctx):
    _, participation = joined()
    first = client.get(f"/c/{participation.token}")
    second = client.get(f"/c/{participation.token}")
    ids = [parse_qs(urlsplit(r.headers["Location"]).query)["cid"][0] for r in (first, second)]
    assert ids[0] != ids[1]
    assert clicks(Click.participation_id == participation.id) == 2


def test_an_unknown_token_is_not_found(client, ctx):
    joined()
    before = clicks()
    response = client.get("/c/no-such-token-at-all")
    assert response.status_code == 404
    assert clicks() == before


def test_a_paused_offer_without_trafficback_shows_a_plain_page_and_records_why(client, ctx):
    offer, participation = joined()
    advertiser_key = make_key(db.session.get(User, offer.advertiser_id))
    paused = client.patch(
        f"/api/v1/offers/{offer.id}", json={"status": "paused"}, headers=auth(advertiser_key)
    )
    assert paused.status_code == 200
    before = clicks()

    response = client.get(f"/c/{participation.token}?sub1=a")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "Location" not in response.headers
    assert response.get_data(as_text=True).strip()
    assert clicks() == before + 1
    click = db.session.scalar(select(Click).order_by(Click.id.desc()).limit(1))
    assert click.trafficback_reason == "not_taking_traffic"


def test_a_click_from_a_country_the_offer_does_not_allow_goes_to_trafficback_with_its_reason(client, ctx):
    advertiser = make_user("advertiser")
    offer = make_offer(
        advertiser,
        allowed_countries=["US"],
        trafficback_url="https://back.example.net/t?c={click_id}&s={sub1}",
    )
    participation = make_join(make_user("webmaster"), offer)

    from_germany = client.get(
        f"/c/{participation.token}?sub1=x y",
        environ_base={"REMOTE_ADDR": "193.99.144.80"},  # heise.de, DE
    )
    from_us = client.get(f"/c/{participation.token}", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    unknown = client.get(f"/c/{participation.token}", environ_base={"REMOTE_ADDR": "10.1.2.3"})

    back = urlsplit(from_germany.headers["Location"])
    assert (back.netloc, parse_qs(back.query)["s"]) == ("back.example.net", ["x y"])
    assert urlsplit(from_us.headers["Location"]).netloc == "landing.example.com"
    assert urlsplit(unknown.headers["Location"]).netloc == "landing.example.com"  # unknown proves nothing
    rows = db.session.execute(select(Click.country, Click.trafficback_reason).order_by(Click.id)).all()
    assert rows[-3:] == [("DE", "geo_not_allowed"), ("US", None), (None, None)]


def test_other_parameters_pass_through_but_never_change_the_target_or_the_click_id(client, ctx):
    _, participation = joined()

    response = client.get(
        f"/c/{participation.token}",
        query_string={"gclid": "abc 1", "url": "https://evil.example/", "cid": "forged", "s": "forged"},
    )

    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "landing.example.com"
    query = parse_qs(target.query, keep_blank_values=True)
    click = db.session.scalar(select(Click).where(Click.participation_id == participation.id))
    assert query["cid"] == [click.click_id]  # the template's own keys cannot be passed through
    assert query["s"] == [""]
    assert query["gclid"] == ["abc 1"]
    assert query["url"] == ["https://evil.example/"]  # only a value in the query, never the target
    assert click.params == {"gclid": "abc 1", "url": "https://evil.example/", "cid": "forged", "s": "forged"}


def test_a_click_is_unique_once_per_ip_user_agent_and_offer_within_24_hours(client, ctx, frozen_clock):
    _, participation = joined()

    def click(user_agent: str) -> bool:
        assert client.get(f"/c/{participation.token}", headers={"User-Agent": user_agent}).status_code == 302
        return db.session.scalar(select(Click.is_unique).order_by(Click.id.desc()).limit(1))

    assert click("Firefox") is True
    assert click("Firefox") is False  # same visitor again
    assert click("Chrome") is True  # another browser on the same IP
    frozen_clock.advance(hours=24, seconds=-1)
    assert click("Firefox") is False
    frozen_clock.advance(seconds=2)
    assert click("Firefox") is True  # the 24 hours since the first have passed
