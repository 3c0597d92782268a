"""A long task in a real browser: an advertiser starts an export from its leads page and
downloads the file; a task page follows a running task by itself (static/tasks.js polls
/tasks/<id>.json), its bar moving and reaching 100 %, then offers the download."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.extensions import db
from exchange.longjobs.jobs import run_long_task
from exchange.longjobs.models import LongTask
from tests.factories import auth, fund, lead_fields, make_join, make_key, make_offer, make_user
from tests.http_harness import LiveServer

PASSWORD = "correct-horse-battery"  # what the factories give every user


@pytest.fixture
def site(live_app_factory):
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        fund(advertiser, 100_000)
        make_join(webmaster, offer)
        wm, adv = auth(make_key(webmaster)), auth(make_key(advertiser))
        advertiser_id, email, offer_id = advertiser.id, advertiser.email, offer.id
    api = app.test_client()
    for _ in range(3):
        lead = api.post("/api/v1/leads", json={"offer_id": offer_id, "fields": lead_fields()}, headers=wm)
        assert lead.get_json()["status"] == "pending"
    with app.app_context():  # the streamed body is read while the request's session lives
        streamed = api.get("/api/v1/leads/export.csv", headers=adv, buffered=True).data
    with LiveServer(app) as server:
        yield {
            "url": f"http://127.0.0.1:{server.port}", "app": app, "email": email,
            "advertiser_id": advertiser_id, "streamed": streamed,
        }  # fmt: skip


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')


def downloaded(page) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    return Path(download.value.path()).read_bytes()


def test_an_export_started_from_the_leads_page_is_followed_to_its_download(site, page):
    sign_in(page, site["url"], site["email"])
    page.goto(site["url"] + "/advertiser/leads")
    page.get_by_role("button", name="Start export").click()

    assert page.get_by_text("Export started").is_visible()
    bar = page.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "3"
    assert page.get_by_text("3 of 3 rows · 100 %").is_visible()
    assert downloaded(page) == site["streamed"]


def test_the_task_page_moves_its_bar_while_the_task_runs(site, page):
    app = site["app"]
    with app.app_context():  # a task whose job has not run yet
        queued = LongTask(user_id=site["advertiser_id"], kind="leads_export", params={}, errors=[])
        db.session.add(queued)
        db.session.commit()
        task_id = queued.id
    sign_in(page, site["url"], site["email"])
    page.goto(f"{site['url']}/tasks/{task_id}")
    assert page.get_by_text("The task is queued").is_visible()
    assert page.locator("progress").get_attribute("value") is None  # not counted yet: indeterminate

    with app.app_context():  # as a worker half way through would have written
        db.session.execute(LongTask.__table__.update().values(state="running", done=1, total=2))
        db.session.commit()
    page.get_by_text("1 of 2 rows · 50 %").wait_for()  # (no wait_for_function: the CSP forbids eval)
    assert page.locator("progress").get_attribute("value") == "1"

    with app.app_context():
        db.session.execute(LongTask.__table__.update().values(state="queued", done=0))
        db.session.commit()
        run_long_task(task_id)
    page.get_by_role("button", name="Download").wait_for()  # the script reloaded the finished page
    bar = page.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "3"
    assert page.get_by_text("100 %").is_visible()
    assert downloaded(page) == site["streamed"]
