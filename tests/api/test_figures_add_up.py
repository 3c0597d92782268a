"""Figures that add up (issue 20, point 4): each money figure on a dashboard equals the
statement of the same period. The advertiser's spend this month is this month's invoice,
all time is every invoice added up, both charges less returns (of offers' leads and of
exchange sales alike); the webmaster's balances are its statements' closing balances."""

from __future__ import annotations

import re

import pytest

from exchange.accounts.models import User
from exchange.buying.models import Sale
from exchange.extensions import db
from tests.api.test_advertiser_pages import page, signed_in, spend_row
from tests.api.test_sale_returns import answer, approved_sales, return_sale
from tests.api.test_statements import FEB, JAN, Market, invoice_of
from tests.factories import auth, make_key, make_user


@pytest.fixture
def market(client, ctx, frozen_clock) -> Market:
    """test_statements' January and February, seen on February 10th."""
    return Market(client, frozen_clock)


def usd(minor: int) -> str:
    return f"{minor / 100:.2f} USD"


def test_the_spend_this_month_is_the_months_invoice_and_all_time_every_invoice(app, market):
    m = market  # January: 70.00 charged; February (now): 40.00 charged, 15.00 returned
    january, february = invoice_of(m, JAN), invoice_of(m, FEB)
    signed_in(app, m.client, m.advertiser)

    figures = spend_row(page(app, m.client, "/advertiser/billing"))

    invoices = (january, february)
    assert figures == [
        usd(february["charged_minor"]),
        usd(february["returned_minor"]),
        usd(february["total_minor"]),
        usd(sum(invoice["charged_minor"] for invoice in invoices)),
        usd(sum(invoice["returned_minor"] for invoice in invoices)),
        usd(sum(invoice["total_minor"] for invoice in invoices)),
    ]
    assert figures == [usd(4000), usd(1500), usd(2500), usd(11000), usd(1500), usd(9500)]


def test_the_webmasters_balances_are_its_statements_closing_balances(app, market):
    m = market
    hold, available = (
        m.statement("w1", FEB, account=account)["closing"] for account in ("hold", "available")
    )
    signed_in(app, m.client, m.w1)

    earnings = page(app, m.client, "/webmaster/").split('<table id="earnings">', 1)[1].split("</table>")[0]

    row = re.findall(r"<td>([^<]+)</td>", re.search(r"<td>USD</td>.*?</tr>", earnings, re.S).group(0))
    assert row[-2:] == [usd(hold["posted_minor"]), usd(available["available_minor"])]


def test_an_exchange_sale_returned_after_its_approval_is_credited_on_the_invoice_and_the_spend(
    app, client, ctx
):
    _, seller_key, buyer_key, [sale_id] = approved_sales(client)  # 20.00, approved
    dispute = return_sale(client, buyer_key, sale_id).get_json()
    assert answer(client, seller_key, dispute["id"], accept=True).get_json()["outcome"] == "upheld"

    (invoice,) = client.get("/api/v1/invoices", headers=auth(buyer_key)).get_json()

    (row,) = invoice["exchange"]
    assert (row["leads_charged"], row["charged_minor"], row["leads_returned"], row["returned_minor"]) == (
        1,
        2000,
        1,
        2000,
    )
    assert (invoice["charged_minor"], invoice["returned_minor"], invoice["total_minor"]) == (2000, 2000, 0)
    signed_in(app, client, db.session.get(User, db.session.get(Sale, sale_id).buyer_id))
    assert spend_row(page(app, client, "/advertiser/billing")) == [usd(2000), usd(2000), usd(0)] * 2


def test_the_revenue_report_nets_the_margin_of_a_sale_returned_after_its_approval(client, ctx):
    made, seller_key, buyer_key, [sale_id] = approved_sales(client)  # 20.00 with 4.00 of margin
    dispute = return_sale(client, buyer_key, sale_id).get_json()
    assert answer(client, seller_key, dispute["id"], accept=True).get_json()["outcome"] == "upheld"
    admin_key = make_key(make_user("admin"))

    report = client.get("/api/v1/admin/revenue", query_string={"currency": "USD"}, headers=auth(admin_key))

    assert report.status_code == 200, report.get_json()
    (row,) = report.get_json()["rows"]
    assert (row["key"], row["margin_minor"], row["returned_minor"], row["net_minor"]) == (
        f"vertical-{made.id}",
        400,
        400,
        0,
    )
    assert report.get_json()["total"]["net_minor"] == 0  # the revenue account is back where it was
