"""The layout in a real browser: each role signs in and gets Pico's styles (the CSS is
served and applied, not only linked), the nav with its own page marked, a skip link that
works from the keyboard, a page that fits a phone's width, and a sign-out that passes
the CSRF check; a chart draws with the vendored Chart.js. No request leaves the app's
own address: the pages work on a closed network."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from flask import Response, render_template_string

from exchange.db import commit
from tests.factories import make_user
from tests.http_harness import LiveServer

PASSWORD = "correct-horse-battery"  # what the factories give every user
HOMES = {  # where each role lands, and its nav's label for that page
    "advertiser": ("/advertiser/", "Dashboard"),
    "webmaster": ("/webmaster/", "Dashboard"),
    "moderator": ("/moderator/", "Dispute queue"),
    "admin": ("/admin/", "Administration"),
}
CHART_PAGE = """{% extends "base.html" %}
{% block content %}<canvas id="chart" role="img" aria-label="Leads per day"></canvas>{% endblock %}
{% block scripts %}{% include "_chart.html" %}<script src="/chart-for-the-test.js"></script>{% endblock %}"""
CHART_SCRIPT = """new Chart(document.getElementById("chart"), {
  type: "bar", options: {animation: false},
  data: {labels: ["Mon", "Tue"], datasets: [{label: "Leads", data: [3, 5]}]},
});"""  # a script of its own, as the app's pages have: the CSP runs no inline script


@dataclass
class Site:
    base_url: str
    emails: dict
    requests: list = field(default_factory=list)  # every URL the browser asked for


@pytest.fixture
def site(live_app_factory):
    """The app over HTTP with CSRF on, one user per role, and a page drawing a chart."""
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    app.add_url_rule("/chart-for-the-test", "chart_for_the_test", lambda: render_template_string(CHART_PAGE))
    app.add_url_rule(
        "/chart-for-the-test.js", "chart_script", lambda: Response(CHART_SCRIPT, mimetype="text/javascript")
    )
    with app.app_context():
        emails = {role: make_user(role).email for role in HOMES}
        commit()
    with LiveServer(app) as server:
        yield Site(f"http://127.0.0.1:{server.port}", emails)


@pytest.fixture
def watched(page, site):
    """The page, with every request it makes and every failed or refused one recorded."""
    failures: list[str] = []
    page.on("request", lambda sent: site.requests.append(sent.url))
    page.on("requestfailed", lambda sent: failures.append(f"failed: {sent.url}"))
    page.on("response", lambda got: got.status >= 400 and failures.append(f"{got.status}: {got.url}"))
    page.set_viewport_size({"width": 1280, "height": 800})
    yield page
    assert failures == []
    elsewhere = [url for url in site.requests if urlsplit(url).hostname != "127.0.0.1"]
    assert site.requests and elsewhere == [], "a page asked for something outside the app"


def sign_in(page, site: Site, role: str) -> None:
    page.goto(site.base_url + "/login")
    page.get_by_label("Email").fill(site.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.base_url + HOMES[role][0])


def style_of(page, selector: str, prop: str) -> str:
    return page.evaluate("([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop])


@pytest.mark.parametrize("role", sorted(HOMES))
def test_a_role_signs_in_to_a_styled_page_with_its_nav_and_signs_out(watched, site, role):
    page = watched
    sign_in(page, site, role)

    assert style_of(page, "main", "maxWidth") == "1200px"  # Pico's .container on a 1280px screen
    assert style_of(page, "body", "fontFamily").startswith("system-ui")  # not the browser's serif
    nav = page.get_by_role("navigation", name="Main")
    current = nav.locator('a[aria-current="page"]')
    assert current.count() == 1 and current.inner_text() == HOMES[role][1]
    assert style_of(page, 'header nav a[aria-current="page"]', "fontWeight") == "600"  # site.css, after Pico

    page.get_by_role("button", name="Sign out").click()  # a POST with the layout's CSRF token
    page.wait_for_url(site.base_url + "/login")
    assert page.get_by_role("navigation", name="Main").get_by_role("link").count() == 0


def test_the_skip_link_takes_the_keyboard_to_the_page_content(watched, site):
    page = watched
    sign_in(page, site, "admin")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("link => link === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # shown once it has the focus
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_a_page_fits_a_phone_and_the_nav_wraps(watched, site):
    page = watched
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, site, "admin")  # the longest nav

    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll in main
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation").is_visible()
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_a_chart_draws_with_the_vendored_chart_js(watched, site):
    page = watched
    sign_in(page, site, "advertiser")

    page.goto(site.base_url + "/chart-for-the-test")

    assert page.evaluate("Chart.version") == "4.6.1"
    assert page.evaluate("Chart.getChart('chart').data.datasets[0].data") == [3, 5]
    assert site.base_url + "/static/vendor/chartjs-4.6.1/chart.umd.min.js" in site.requests
