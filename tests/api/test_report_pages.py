"""The reports pages (/advertiser/reports, /webmaster/reports, /admin/reports): each role's
columns and never the forbidden ones, the same figures as GET /api/v1/reports for the same
arguments, a totals row per currency, the CSV download by session, bad arguments said by
their fields (422, no figures), and nothing of another tenant's."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from exchange import clock
from exchange.reports.domain import columns_for
from exchange.reports.rollup import fold
from tests.api.test_reports import PAYOUT, RATE, Market
from tests.api.test_web_portal import login, request
from tests.factories import auth, make_click, make_user


@pytest.fixture
def market(client, ctx):
    """Four clicks on sub1 "spring" and one on "summer"; three leads ("spring"): one
    approved, one rejected, one pending; folded."""
    market = Market(client)
    for _ in range(4):
        make_click(market.participation, sub1="spring")
    make_click(market.participation, sub1="summer")
    approved, rejected, market.pending_id = market.lead(), market.lead(), market.lead()
    market.decide(approved, "approve")
    market.decide(rejected, "reject")
    fold()
    market.admin = make_user("admin")
    return market


def signed_in(app, client, user) -> None:
    client.delete_cookie("session", domain="exchange.test")
    assert login(app, client, user.email).status_code == 302


def get(app, client, path: str, status: int = 200, **query):
    """GET in its own application context, the body read inside it (a CSV is streamed)."""
    response = request(app, client, "GET", path, query_string=query or None, buffered=True)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response


def body_of(response) -> str:
    return unescape(response.get_data(as_text=True).split("<body", 1)[1])


def header_columns(body: str) -> list[str]:
    head = re.search(r'<table id="report">.*?<thead>(.*?)</thead>', body, re.S).group(1)
    return re.findall(r'<th scope="col" data-column="([^"]+)"', head)


def table_rows(body: str) -> list[dict]:
    """Each body row as {column: data-value}: what the API answers for the cell."""
    tbody = re.search(r'<table id="report">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    return [
        dict(re.findall(r'<td data-column="([^"]+)" data-value="([^"]*)"', row))
        for row in re.findall(r"<tr>(.*?)</tr>", tbody, re.S)
        if "data-column" in row
    ]


def totals_rows(body: str) -> list[dict]:
    tfoot = re.search(r'<table id="report">.*?<tfoot>(.*?)</tfoot>', body, re.S).group(1)
    return [
        dict(re.findall(r'<td data-column="([^"]+)" data-value="([^"]*)"', row))
        for row in tfoot.split("</tr>")[:-1]
    ]


def shows(amount_minor: int, body: str) -> bool:
    """Whether the amount is on the page as money (``5.00 USD``, not inside ``15.00 USD``)."""
    return re.search(rf"(?<![\d.,]){amount_minor / 100:.2f} USD", body) is not None


def api_rows(market: Market, key: str, **query) -> list[dict]:
    answer = market.client.get("/api/v1/reports", query_string=query, headers=auth(key)).get_json()
    return [
        {name: "" if value is None else str(value) for name, value in row.items()} for row in answer["rows"]
    ]


def today() -> str:
    return clock.now().date().isoformat()


# -- each role's columns --------------------------------------------------------------------------


def test_the_webmaster_page_shows_payout_and_never_revenue_or_margin(app, client, market):
    signed_in(app, client, market.webmaster)

    body = body_of(get(app, client, "/webmaster/reports"))

    assert header_columns(body) == ["day", "currency", *columns_for("webmaster")]
    assert "payout_minor" in header_columns(body)
    assert not {"revenue_minor", "margin_minor"} & set(header_columns(body))
    assert ">Revenue<" not in body and ">Margin<" not in body
    assert not shows(RATE, body) and not shows(RATE - PAYOUT, body)
    (row,) = table_rows(body)
    assert row["payout_minor"] == str(PAYOUT)  # one approved lead
    assert shows(PAYOUT, body)


def test_the_advertiser_page_shows_revenue_and_never_payout_or_margin(app, client, market):
    signed_in(app, client, market.advertiser)

    body = body_of(get(app, client, "/advertiser/reports"))

    assert header_columns(body) == ["day", "currency", *columns_for("advertiser")]
    assert not {"payout_minor", "margin_minor"} & set(header_columns(body))
    assert not shows(PAYOUT, body) and not shows(RATE - PAYOUT, body)
    (row,) = table_rows(body)
    assert row["revenue_minor"] == str(RATE)
    assert row["epc"] == "3.0000"  # 15.00 spent over 5 clicks, in dollars per click
    assert "3.00 USD" in body


def test_the_admin_page_shows_every_column(app, client, market):
    signed_in(app, client, market.admin)

    body = body_of(get(app, client, "/admin/reports"))

    assert header_columns(body) == ["day", "currency", *columns_for("admin")]
    (row,) = table_rows(body)
    assert (row["revenue_minor"], row["payout_minor"], row["margin_minor"]) == (
        str(RATE),
        str(PAYOUT),
        str(RATE - PAYOUT),
    )


# -- the same figures as the API --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["webmaster", "advertiser", "admin"])
def test_the_figures_are_the_apis_for_the_same_arguments(app, client, market, who):
    user = {"webmaster": market.webmaster, "advertiser": market.advertiser, "admin": market.admin}[who]
    key = {"webmaster": market.wm_key, "advertiser": market.adv_key, "admin": market.admin_key}[who]
    signed_in(app, client, user)

    body = body_of(get(app, client, f"/{who}/reports", grain="day", group=["offer", "sub1"]))

    expected = api_rows(
        market,
        key,
        group_by="day,offer,sub1",
        since=(clock.now().date() - timedelta(days=29)).isoformat(),
        until=today(),
    )
    assert table_rows(body) == expected
    assert len(expected) == 2  # "spring" and "summer"
    assert {row["sub1"]: row["clicks"] for row in table_rows(body)} == {"spring": "4", "summer": "1"}


def test_by_hour_with_a_filter_matches_the_api(app, client, market):
    signed_in(app, client, market.advertiser)

    body = body_of(
        get(app, client, "/advertiser/reports", grain="hour", sub1="spring", since=today(), until=today())
    )

    expected = api_rows(market, market.adv_key, group_by="hour", sub1="spring", since=today(), until=today())
    assert table_rows(body) == expected and len(expected) == 1
    assert expected[0]["clicks"] == "4" and expected[0]["leads"] == "3"


# -- totals and chart --------------------------------------------------------------------------------


def test_the_totals_row_adds_up_the_rows_and_recomputes_the_rates(app, client, market):
    signed_in(app, client, market.webmaster)

    body = body_of(get(app, client, "/webmaster/reports", group=["sub1"]))

    assert len(table_rows(body)) == 2
    (total,) = totals_rows(body)
    assert total["currency"] == "USD"
    assert (total["clicks"], total["leads"], total["leads_approved"]) == ("5", "3", "1")
    assert total["cr"] == "0.6000"  # 3 leads over 5 clicks: not the average of the rows' rates
    assert total["ar"] == "0.5000"  # 1 approved of 1 approved + 1 rejected
    assert total["epc"] == "2.0000"  # 10.00 payout over 5 clicks
    assert total["payout_minor"] == str(PAYOUT)
    assert re.search(r'<tr class="totals">\s*<th scope="row"[^>]*>Total</th>', body)


def test_the_chart_data_is_per_day_over_the_range_in_a_json_block(app, client, market):
    import json

    signed_in(app, client, market.webmaster)

    body = body_of(get(app, client, "/webmaster/reports", group=["sub1"]))

    points = json.loads(re.search(r'id="report-chart-data">(.*?)</script>', body, re.S).group(1))
    assert len(points) == 30 and points[-1] == {"at": today(), "clicks": 5, "leads": 3, "approved": 1}
    assert sum(point["clicks"] for point in points) == 5
    assert "chart.umd.min.js" in body and "reports.js" in body
    assert "<script>" not in body  # no inline script: data only


# -- the CSV ----------------------------------------------------------------------------------------


def test_the_csv_link_downloads_the_apis_csv_with_the_same_arguments(app, client, market):
    signed_in(app, client, market.webmaster)
    body = body_of(get(app, client, "/webmaster/reports", group=["sub1"]))
    link = re.search(r'<a href="([^"]+)" download id="csv-download">', body).group(1)
    assert link.startswith("/webmaster/reports.csv?")

    page_csv = get(app, client, link)

    assert page_csv.mimetype == "text/csv"
    since = (clock.now().date() - timedelta(days=29)).isoformat()
    api_csv = client.get(
        "/api/v1/reports.csv",
        query_string={"group_by": "day,sub1", "since": since, "until": today()},
        headers=auth(market.wm_key),
    )
    assert page_csv.get_data(as_text=True) == api_csv.get_data(as_text=True)
    header = next(csv.reader(io.StringIO(page_csv.get_data(as_text=True))))
    assert "payout" in header and "revenue" not in header and "margin" not in header


def test_the_csv_needs_a_signed_in_user_of_the_role(app, client, market):
    response = get(app, client, "/advertiser/reports.csv", status=302)  # to the sign-in page
    assert "/login" in response.headers["Location"]
    signed_in(app, client, market.webmaster)
    get(app, client, "/advertiser/reports.csv", status=403)
    get(app, client, "/admin/reports", status=403)


# -- bad arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "2026-02-30"}, "since", "Not a valid date."),
        ({"since": "2026-03-10", "until": "2026-03-01"}, "until", "Must not be before since."),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "until", "At most 366 days after since."),
        ({"group": "planet"}, "group", "Unknown: planet."),
        ({"group": ["offer", "offer"]}, "group", "Each dimension once."),
        ({"grain": "week"}, "grain", "Day or hour."),
        ({"country": "USA"}, "country", "Two letters."),
        ({"offer_id": "seven"}, "offer_id", "Not a valid integer."),
    ],
)
def test_bad_arguments_are_said_by_their_field_with_422_and_no_figures(
    app, client, market, query, field, message
):
    signed_in(app, client, market.advertiser)

    body = body_of(get(app, client, "/advertiser/reports", status=422, **query))

    said = re.search(rf'<small class="field-error" id="{field}-error">([^<]*)</small>', body)
    assert said and message in said.group(1)
    assert '<table id="report">' not in body and "csv-download" not in body
    get(app, client, "/advertiser/reports.csv", status=422, **query)  # no CSV either


def test_a_webmaster_may_not_group_by_webmaster_or_advertiser_on_its_page(app, client, market):
    signed_in(app, client, market.webmaster)

    body = body_of(get(app, client, "/webmaster/reports", status=422, group="advertiser"))

    assert 'id="group-error"' in body and 'value="advertiser"' not in body


# -- tenants -------------------------------------------------------------------------------------------


def test_another_advertisers_offer_filter_shows_nothing_of_it(app, client, market):
    rival = Market(client)
    make_click(rival.participation, sub1="rival")
    fold()
    signed_in(app, client, rival.advertiser)

    body = body_of(get(app, client, "/advertiser/reports", offer_id=market.offer_id))

    assert table_rows(body) == [] and totals_rows(body) == []
    assert "No figures for these days and filters." in body
    own = body_of(get(app, client, "/advertiser/reports", group="offer"))
    assert [row["offer_id"] for row in table_rows(own)] == [str(rival.offer_id)]
    assert [row["clicks"] for row in table_rows(own)] == ["1"]


def test_a_webmaster_sees_only_its_own_traffic(app, client, market):
    stranger = make_user("webmaster")
    signed_in(app, client, stranger)

    body = body_of(get(app, client, "/webmaster/reports", offer_id=market.offer_id))

    assert table_rows(body) == [] and totals_rows(body) == []


def test_the_page_says_how_fresh_the_figures_are(app, client, market):
    make_click(market.participation, sub1="late")  # not folded yet
    signed_in(app, client, market.advertiser)

    body = body_of(get(app, client, "/advertiser/reports"))

    assert "every 30 seconds" in body and "1 change waiting" in body
    (row,) = table_rows(body)
    assert row["clicks"] == "5"  # the unfolded click is not in the figures yet


def test_only_the_changes_of_its_own_offers_are_counted_for_an_advertiser(app, client, market):
    make_click(market.participation, sub1="late")
    other = Market(client)
    make_click(other.participation)  # another advertiser's offer: not this one's to know
    make_click(other.participation)
    signed_in(app, client, market.advertiser)

    body = body_of(get(app, client, "/advertiser/reports"))

    assert "1 change waiting" in body


def test_a_webmaster_is_told_of_the_fold_but_given_no_count(app, client, market):
    make_click(market.participation, sub1="late")
    signed_in(app, client, market.webmaster)

    body = body_of(get(app, client, "/webmaster/reports"))

    assert "every 30 seconds" in body and not re.search(r"\bchanges? waiting", body)


def test_export_as_a_task_makes_the_same_csv_as_the_download_link(app, client, market):
    signed_in(app, client, market.advertiser)
    body = body_of(get(app, client, "/advertiser/reports", group=["sub1"], sub1="spring"))
    form = body.split('aria-label="Export as a task"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert fields["group_by"] == "day,sub1" and fields["sub1"] == "spring"
    link = re.search(r'<a href="([^"]+)" download id="csv-download">', body).group(1)

    started = request(app, client, "POST", "/exports/report", data=fields)

    assert started.status_code == 303, started.get_data(as_text=True)
    task_id = int(started.headers["Location"].rsplit("/", 1)[1])
    exported = get(app, client, f"/tasks/{task_id}/download").get_data(as_text=True)
    assert exported == get(app, client, link).get_data(as_text=True)
    assert len(exported.splitlines()) == 2  # the header and the "spring" day
