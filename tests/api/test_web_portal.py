"""The server-rendered portal, driven with the test client: sign-in and each role's page."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.factories import fund, lead_fields, make_join, make_key, make_offer, make_user

PASSWORD = "correct-horse-battery"  # what the factories give every user


def request(app, client, method: str, path: str, **kwargs):
    """One request in its own application context, as in production.

    The fixtures keep an application context open for the whole test; without
    a fresh one, Flask-Login would answer ``current_user`` from the previous
    request's cache instead of from the session cookie.
    """
    with app.app_context():
        return client.open(path, method=method, **kwargs)


def login(app, client, email: str, password: str = PASSWORD):
    return request(app, client, "POST", "/login", data={"email": email, "password": password})


def test_the_login_page_renders(app, client):
    response = request(app, client, "GET", "/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'name="email"' in page
    assert 'name="password"' in page


def test_a_wrong_password_is_refused(app, client, ctx):
    advertiser = make_user("advertiser")

    response = login(app, client, advertiser.email, "not-the-password")

    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    page = request(app, client, "GET", "/advertiser/")
    assert page.status_code == 302  # still signed out: back to the login page
    assert urlsplit(page.headers["Location"]).path == "/login"


def test_an_unknown_email_is_refused(app, client, ctx):
    response = login(app, client, "nobody@example.test")
    assert response.status_code == 401


def test_an_advertiser_signs_in_and_sees_its_own_offers(app, client, ctx):
    advertiser, rival = make_user("advertiser"), make_user("advertiser")
    make_offer(advertiser, name="Acme Solar Panels Alpha")
    make_offer(rival, name="Zenith Roofing Beta")
    email = advertiser.email

    response = login(app, client, email)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"]).path
    assert location == "/advertiser/"
    page = request(app, client, "GET", location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert email in text
    assert "Acme Solar Panels Alpha" in text
    assert "Zenith Roofing Beta" not in text


def test_the_advertiser_page_lists_only_its_own_leads(app, client, ctx):
    advertiser, rival, webmaster = make_user("advertiser"), make_user("advertiser"), make_user("webmaster")
    own_offer, rival_offer = make_offer(advertiser, rate_minor=4321), make_offer(rival, rate_minor=8765)
    for offer, owner in ((own_offer, advertiser), (rival_offer, rival)):
        fund(owner, 100_000)
        make_join(webmaster, offer)
    wm_key = {"Authorization": f"Bearer {make_key(webmaster)}"}
    for offer in (own_offer, rival_offer):
        response = client.post(
            "/api/v1/leads", json={"offer_id": offer.id, "fields": lead_fields()}, headers=wm_key
        )
        assert response.get_json()["status"] == "pending"
    email = advertiser.email

    assert login(app, client, email).status_code == 302
    text = request(app, client, "GET", "/advertiser/").get_data(as_text=True)

    assert "43.21 USD" in text  # its own offer and lead, priced at its rate
    assert "87.65 USD" not in text  # nothing of the rival's


def test_a_webmaster_signs_in_to_its_own_page(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    joined = make_offer(advertiser, name="Joined Offer Gamma")
    make_offer(advertiser, name="Other Offer Delta")
    participation = make_join(webmaster, joined)
    token, email = participation.token, webmaster.email

    response = login(app, client, email)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"]).path
    assert location == "/webmaster/"
    text = request(app, client, "GET", location).get_data(as_text=True)
    assert "Joined Offer Gamma" in text
    assert f"/c/{token}" in text
    assert "Other Offer Delta" not in text


def test_a_webmaster_may_not_open_the_advertiser_page(app, client, ctx):
    webmaster = make_user("webmaster")
    email = webmaster.email
    assert login(app, client, email).status_code == 302

    response = request(app, client, "GET", "/advertiser/")

    assert response.status_code == 403
    # while its own page opens with the same session
    assert request(app, client, "GET", "/webmaster/").status_code == 200


def test_an_advertiser_may_not_open_the_admin_page(app, client, ctx):
    advertiser = make_user("advertiser")
    email = advertiser.email
    assert login(app, client, email).status_code == 302
    assert request(app, client, "GET", "/admin/").status_code == 403


def test_percentage_prices_show_as_shares_of_the_sale_and_the_webmaster_never_sees_the_rate(app, client, ctx):
    advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
    shop = make_offer(
        advertiser,
        name="Shop",
        model="cps",
        fields=[],
        allowed_countries=[],
        rate_minor=None,
        payout_minor=None,
        rate_bps=1250,
        payout_bps=700,
    )
    make_join(webmaster, shop)
    emails = advertiser.email, webmaster.email

    login(app, client, emails[0])
    advertiser_page = request(app, client, "GET", "/advertiser/").get_data(as_text=True)
    request(app, client, "POST", "/logout")
    login(app, client, emails[1])
    webmaster_page = request(app, client, "GET", "/webmaster/").get_data(as_text=True)

    assert "12.5 % of each sale" in advertiser_page and "7 % of each sale" in advertiser_page
    assert "7 % of each sale" in webmaster_page and "12.5 %" not in webmaster_page
