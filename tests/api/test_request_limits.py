"""Bodies have a ceiling (MAX_CONTENT_LENGTH: 413 before the body is read, CSRF or not),
and a page's "go back to" path is never another site nor a broken header."""

from __future__ import annotations

import io

import pytest

from exchange.db import commit
from tests.api.test_web_portal import login, request
from tests.factories import make_user

TOO_BIG = 5 * 1024 * 1024  # over the 4 MB ceiling


def test_an_upload_over_the_ceiling_is_refused_413_even_with_csrf_on(live_app_factory):
    app = live_app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()  # no session, no token: without the ceiling, CSRF would answer 400
    upload = {"file": (io.BytesIO(b"lead_id,decision\n" + b"1,approve\n" * (TOO_BIG // 10)), "big.csv")}

    response = request(app, client, "POST", "/advertiser/leads/import", data=upload)

    assert response.status_code == 413


def test_an_api_body_over_the_ceiling_is_a_json_413(app, client):
    response = client.post(
        "/api/v1/leads", data=b"{" + b" " * TOO_BIG + b"}", content_type="application/json"
    )

    assert response.status_code == 413
    assert response.get_json()["error"]["code"]


@pytest.mark.parametrize(
    "back",
    ["//evil.example/x", "/\t/evil.example", "/\n/x", "https://evil.example/", "/\\evil.example", "reports"],
)
def test_a_report_export_never_goes_back_elsewhere(app, client, ctx, back):
    user = make_user("advertiser")
    commit()
    assert login(app, client, user.email).status_code == 302

    response = request(app, client, "POST", "/exports/report", data={"group_by": "moon", "back": back})

    assert response.status_code == 303
    assert response.headers["Location"] == "/tasks"  # the refused query goes back to the tasks


def test_a_report_export_goes_back_to_a_path_of_this_site(app, client, ctx):
    user = make_user("advertiser")
    commit()
    assert login(app, client, user.email).status_code == 302

    response = request(
        app,
        client,
        "POST",
        "/exports/report",
        data={"group_by": "moon", "back": "/advertiser/reports?grain=day"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/advertiser/reports?grain=day"
