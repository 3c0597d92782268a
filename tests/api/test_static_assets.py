"""The pages load their CSS and JavaScript from the app itself, so the exchange works on
a closed network: templates name only files under exchange/static (Stripe.js on the
card step is the one exception, from STRIPE_JS_URL, as Stripe requires); the vendored
libraries are served exactly as exchange/static/vendor/README.md records them (SHA-256);
and each role's pages carry the layout: the nav with the current page marked, the
sign-out form, the skip link and ``main.container``."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import flash, render_template_string, url_for

from exchange.db import commit
from exchange.navigation import TREES, Page, Section, locate
from tests.api.test_web_portal import login, request
from tests.factories import make_offer, make_user
from tests.stripe_server import LocalStripe

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "exchange" / "static" / "vendor"
CHECKSUM_ROW = re.compile(r"^\| `([\w./-]+)` \| `([0-9a-f]{64})` \|$", re.MULTILINE)
RECORDED = dict(CHECKSUM_ROW.findall((VENDOR / "README.md").read_text()))
CONTENT_TYPES = {".css": {"text/css"}, ".js": {"text/javascript", "application/javascript"}}

# Each role's sections in the header, in order (exchange/navigation.py draws them).
SECTIONS = {
    "advertiser": ["Dashboard", "Offers", "Leads", "Exchange", "Delivery", "Money", "API keys"],
    "webmaster": ["Dashboard", "Offers", "Leads", "Exchange", "Postbacks", "Money", "API keys"],
    "moderator": ["Dispute queue", "Partners", "Fraud review", "Reputation", "Audit log", "Lead events"],
    "admin": ["Administration", "Reports", "Exchange", "Moderation"],
}

# A template's <script src> and <link href>: a static file, or one of these exceptions.
STATIC_FILE = re.compile(r"\{\{ url_for\('static', filename='[^']+'\) \}\}")
ELSEWHERE_ALLOWED = {("topup.html", "{{ stripe_js_url }}"), ("base.html", "data:,")}
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
LOADING_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
LOADED_URL = re.compile(r"\b(?:src|href)=\"([^\"]*)\"")


class Layout(HTMLParser):
    """What a rendered page loads, and the parts of the layout the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.loads: list[str] = []  # every <link href> and <script src>
        self.navs: dict[str, list[tuple[str, str, str | None]]] = {}  # (label, href, aria-current) by nav
        self._nav: str | None = None
        self.sign_out: dict | None = None  # the sign-out form: its action, whether it carries a CSRF token
        self.skip_link: str | None = None
        self.main: dict | None = None
        self._link: list | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        if tag == "link" and "href" in found or tag == "script" and "src" in found:
            self.loads.append(found.get("href") or found["src"])
        elif tag == "nav":
            self._nav = found.get("aria-label")
            self.navs.setdefault(self._nav, [])
        elif tag == "a" and "skip-link" in (found.get("class") or "").split():
            self.skip_link = found.get("href")
        elif tag == "a" and self._nav:
            self._link = ["", found.get("href"), found.get("aria-current")]
        elif tag == "form" and self._nav == "Main":
            self.sign_out = {"action": found.get("action"), "method": found.get("method"), "csrf": False}
        elif tag == "input" and self.sign_out is not None and found.get("name") == "csrf_token":
            self.sign_out["csrf"] = bool(found.get("value"))
        elif tag == "main":
            self.main = found

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._nav = None
        elif tag == "a" and self._link is not None:
            self.navs[self._nav].append((self._link[0].strip(), self._link[1], self._link[2]))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[0] += data

    @property
    def nav(self) -> list[tuple[str, str, str | None]]:
        """The header's nav: the role's sections (not the link to the account's settings)."""
        return [link for link in self.navs.get("Main", []) if link[1] != "/account"]

    def loaded_from_elsewhere(self) -> list[str]:
        return [url for url in self.loads if not _local(url)]


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "data" or not (parts.scheme or parts.netloc)


def fetch(app, client, path: str):
    """A static file's status, type and bytes, its file closed."""
    response = request(app, client, "GET", path)
    try:
        return response.status_code, response.mimetype, response.data
    finally:
        response.close()


def page_of(app, client, path: str) -> Layout:
    response = request(app, client, "GET", path)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    return Layout(response.get_data(as_text=True))


def test_templates_load_scripts_and_styles_only_from_the_apps_static_folder(app):
    """Every template, including those no test renders: a <script src> or <link href> is
    url_for('static', ...), Stripe.js on the card step being the only exception."""
    checked = 0
    for name in app.jinja_env.list_templates(extensions=["html"]):
        source, filename, _ = app.jinja_env.loader.get_source(app.jinja_env, name)
        if not Path(filename).is_relative_to(ROOT) or Path(filename).is_relative_to(ROOT / ".venv"):
            continue  # a library's own (flask-smorest's API docs pages, which the app does not serve)
        source = JINJA_COMMENT.sub("", source)
        for tag in LOADING_TAG.findall(source):
            for url in LOADED_URL.findall(tag):
                checked += 1
                assert STATIC_FILE.fullmatch(url) or (name, url) in ELSEWHERE_ALLOWED, (name, tag)
    assert checked >= 3  # the layout's two stylesheets and topup.html's scripts at least


def test_the_vendor_readme_records_every_vendored_file_and_nothing_else():
    on_disk = {
        str(path.relative_to(VENDOR))
        for path in VENDOR.rglob("*")
        if path.is_file() and path.parent != VENDOR  # README.md and .gitattributes describe the rest
    }
    assert on_disk == set(RECORDED)
    assert {"pico-2.1.1/pico.min.css", "chartjs-4.6.1/chart.umd.min.js"} <= on_disk


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_a_vendored_file_is_served_byte_for_byte_as_recorded(app, client, name):
    status, mimetype, body = fetch(app, client, f"/static/vendor/{name}")

    assert status == 200
    suffix = Path(name).suffix
    if suffix in CONTENT_TYPES:
        assert mimetype in CONTENT_TYPES[suffix]
    assert hashlib.sha256(body).hexdigest() == RECORDED[name], (
        f"{name} differs from the file its package ships (exchange/static/vendor/README.md)"
    )


def test_the_sign_in_page_has_the_layout_without_a_nav_and_loads_pico_then_site_css(app, client):
    page = page_of(app, client, "/login")

    assert page.nav == [] and page.sign_out is None  # a visitor: the brand only
    stylesheets = [url for url in page.loads if url.endswith(".css")]
    assert stylesheets == ["/static/vendor/pico-2.1.1/pico.min.css", "/static/site.css"]
    assert page.loaded_from_elsewhere() == []
    assert page.skip_link == "#content"
    assert page.main["id"] == "content" and "container" in page.main["class"].split()
    for url in stylesheets:
        assert fetch(app, client, url)[:2] == (200, "text/css")


def pages_of(app, role: str) -> list[tuple[Section, Page, str]]:
    """Every (section, page, path) the role's nav links to, as the running app has them."""
    with app.test_request_context("/"):
        located = locate(role, None)
        return [
            (section, page, url_for(page.endpoint)) for section in located.sections for page in section.pages
        ]


@pytest.mark.parametrize("role", sorted(SECTIONS))
def test_each_page_in_a_roles_nav_renders_the_layout_with_itself_marked_current(app, client, ctx, role):
    user = make_user(role)
    assert login(app, client, user.email).status_code == 302
    listed = pages_of(app, role)
    assert len(listed) >= len(SECTIONS[role])

    for section, linked, path in listed:
        page = page_of(app, client, path)

        assert [label for label, _, _ in page.nav] == SECTIONS[role], path
        header_marked = [(label, current) for label, _, current in page.nav if current]
        first = path == url_for_path(listed, section)
        assert header_marked == [(section.label, "page" if first else "true")], path
        second_level = page.navs.get(section.label, [])
        if len(section.pages) > 1:
            assert [label for label, _, _ in second_level] == [p.label for p in section.pages], path
            assert [(label, href) for label, href, current in second_level if current] == [
                (linked.label, path)
            ]
        else:
            assert second_level == [], path
        assert page.sign_out == {"action": "/logout", "method": "post", "csrf": True}, path
        assert page.loaded_from_elsewhere() == [], path
        assert page.skip_link == "#content" and page.main["id"] == "content", path


def url_for_path(listed: list[tuple[Section, Page, str]], section: Section) -> str:
    return next(path for listed_section, _, path in listed if listed_section == section)


def test_every_endpoint_the_navigation_names_is_a_page_of_the_app(app):
    named = {page.endpoint for sections in TREES.values() for section in sections for page in section.pages}
    named |= {endpoint for sections in TREES.values() for section in sections for endpoint in section.owns}

    assert sorted(named - set(app.view_functions)) == []
    assert set(TREES) == set(SECTIONS)


@pytest.mark.parametrize("role", sorted(SECTIONS))
def test_no_page_is_linked_from_two_sections(app, role):
    paths = [path for _, _, path in pages_of(app, role)]

    assert len(paths) == len(set(paths))


@pytest.mark.parametrize(
    "role, path, section",
    [
        ("advertiser", "/advertiser/offers/new", "Offers"),  # no link of its own
        ("advertiser", "/advertiser/offers/{offer}", "Offers"),
        ("advertiser", "/invoices", "Money"),
        ("admin", "/moderator/partners", "Moderation"),
        ("admin", "/admin/users", "Administration"),
    ],
)
def test_a_page_other_than_its_sections_first_marks_the_sections_link(app, client, ctx, role, path, section):
    user = make_user(role)
    if "{offer}" in path:
        path = path.format(offer=make_offer(user).id)
        commit()
    assert login(app, client, user.email).status_code == 302

    page = page_of(app, client, path)

    marked = [(label, current) for label, _, current in page.nav if current]
    assert marked == [(section, "true")]


def test_the_card_step_loads_stripe_js_from_stripe_js_url_and_nothing_else_from_elsewhere(
    live_app_factory,
):
    with LocalStripe() as stripe_server:
        app = live_app_factory(**stripe_server.app_config())
        assert app.config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"  # Stripe's rule: from Stripe
        with app.app_context():
            email = make_user("advertiser").email
        client = app.test_client()
        assert login(app, client, email).status_code == 302

        amount = {"amount": "50.00", "currency": "USD"}
        response = request(app, client, "POST", "/advertiser/topup", data=amount)

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'id="card-form"' in html  # the card step, not the amount form
    assert Layout(html).loaded_from_elsewhere() == ["https://js.stripe.com/v3/"]


def test_chart_js_is_loaded_from_the_app_only_by_pages_that_include_the_chart_partial(app, client):
    with app.test_request_context("/"):
        plain = Layout(render_template_string('{% extends "base.html" %}'))
        charted = Layout(
            render_template_string(
                '{% extends "base.html" %}{% block scripts %}{% include "_chart.html" %}{% endblock %}'
            )
        )

    scripts = [url for url in charted.loads if url.endswith(".js")]
    assert scripts == ["/static/vendor/chartjs-4.6.1/chart.umd.min.js"]
    assert scripts[0].removeprefix("/static/vendor/") in RECORDED
    assert not [url for url in plain.loads if url.endswith(".js")]
    status, _, body = fetch(app, client, scripts[0])
    assert status == 200 and b"Chart.js v4.6.1" in body


def test_flashed_messages_say_problems_as_alerts_and_things_done_as_status(app):
    with app.test_request_context("/"):
        flash("Not done: the message is empty.")
        flash("Approved.", "notice")
        html = render_template_string('{% extends "base.html" %}')

    assert '<p role="alert" class="flash">Not done: the message is empty.</p>' in html
    assert '<p role="status" class="notice">Approved.</p>' in html
