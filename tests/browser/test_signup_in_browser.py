"""A newcomer's first minutes in a real browser (issue 20): a webmaster opens an account
from the sign-in page, confirms its address by the link in the mail (read from a real SMTP
server on 127.0.0.1), signs in, follows its first steps to make an API key, and sends its
first lead with that key. CSRF is on; nothing leaves 127.0.0.1."""

from __future__ import annotations

import re

import pytest

from exchange.db import commit
from tests.factories import fund, lead_fields, make_offer, make_user
from tests.http_harness import LiveServer, call
from tests.mail_server import MailServer

EMAIL, PASSWORD = "wes@traffic.test", "a long enough passphrase"


@pytest.fixture
def site(live_app_factory):
    with MailServer() as mailbox:
        app = live_app_factory(
            WTF_CSRF_ENABLED=True,
            SERVER_NAME=None,  # the mailed links name the host the sign-up was asked on
            WEBMASTER_APPROVAL="auto",  # the journey is the newcomer's own: no moderator in it
            **mailbox.app_config(),
        )
        with app.app_context():
            advertiser = make_user("advertiser")
            fund(advertiser, 100_000)
            offer_id = make_offer(advertiser).id
            commit()
        with LiveServer(app) as server:
            yield f"http://127.0.0.1:{server.port}", server.port, mailbox, offer_id


def test_a_webmaster_signs_up_confirms_signs_in_makes_a_key_and_sends_its_first_lead(page, site):
    base_url, port, mailbox, offer_id = site
    page.goto(f"{base_url}/login")
    page.get_by_role("link", name="Open an account").click()
    page.get_by_label("A webmaster").check()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name or handle").fill("Wes")
    page.get_by_label("Company (optional)").fill("Traffic Garden")
    page.get_by_label("I accept the terms").check()
    page.get_by_role("button", name="Open the account").click()
    assert page.get_by_role("heading", name="Check your mail").is_visible()

    (mail,) = mailbox.wait_for(1)
    link = re.search(r"http://127\.0\.0\.1:\d+/confirm/\S+", mail.get_content()).group(0)
    page.goto(link)
    assert "Address confirmed: sign in." in page.locator(".notice").inner_text()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    steps = page.locator("#first-steps")
    assert steps.is_visible()
    steps.get_by_role("link", name="Make an API key").click()
    page.get_by_label("Name (what it is for)").fill("my forms")
    page.get_by_role("button", name="Create a key").click()
    key = page.locator("#new-key").inner_text()

    joined = call(port, "POST", f"/api/v1/offers/{offer_id}/join", key)
    lead = call(port, "POST", "/api/v1/leads", key, {"offer_id": offer_id, "fields": lead_fields()})

    assert joined.status in (200, 201), joined.body
    assert lead.status == 202, lead.body  # accepted: validated by a job
    page.goto(f"{base_url}/webmaster/leads")
    first_cells = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert first_cells == [str(lead.body["id"])]
