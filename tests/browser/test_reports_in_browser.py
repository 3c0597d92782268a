"""The reports page in a real browser: the chart draws from the page's JSON with the
vendored Chart.js (no inline script), the table and its total show the folded clicks,
a range the API refuses comes back with the message at its field, and the CSV link
downloads with the session's cookie."""

from __future__ import annotations

import pytest

from exchange.db import commit
from exchange.reports.jobs import fold_job
from tests.factories import make_click, make_join, make_offer, make_user
from tests.http_harness import LiveServer

PASSWORD = "correct-horse-battery"  # what the factories give every user


@pytest.fixture
def site(live_app_factory):
    """The app over HTTP with CSRF on; a webmaster with three folded clicks on sub1 "spring"."""
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        webmaster = make_user("webmaster")
        participation = make_join(webmaster, make_offer(make_user("advertiser")))
        for _ in range(3):
            make_click(participation, sub1="spring")
        fold_job()
        email = webmaster.email
        commit()
    with LiveServer(app) as server:
        yield f"http://127.0.0.1:{server.port}", email


def test_the_webmasters_report_draws_its_chart_and_says_a_bad_range_at_its_field(page, site):
    base_url, email = site
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/webmaster/")

    page.goto(base_url + "/webmaster/reports?group=sub1")

    page.locator("#report-chart:not([hidden])").wait_for()
    assert page.evaluate("() => Boolean(window.Chart.getChart('report-chart'))")
    row = page.locator("#report tbody tr").first
    assert row.locator('td[data-column="sub1"]').inner_text() == "spring"
    assert row.locator('td[data-column="clicks"]').inner_text() == "3"
    assert page.locator('#report tfoot td[data-column="clicks"]').inner_text() == "3"
    assert page.locator('#report th[data-column="revenue_minor"]').count() == 0

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith("-by-day-sub1.csv")

    page.get_by_label("From (UTC day)").fill("2026-03-10")
    page.get_by_label("To (included)").fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    page.locator("#until-error").wait_for()
    assert page.locator("#until-error").inner_text() == "Must not be before since."
    assert page.locator("#report").count() == 0
