"""Who sees which report columns, and the rates' arithmetic (exchange/reports/domain.py);
how group_by is read and documented."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from exchange.reports.domain import columns_for, dimension_keys, figures_for, per_click, ratio
from exchange.reports.schemas import ReportQuerySchema

SUMS = {
    "clicks": 8, "unique_clicks": 5, "leads": 3,
    "leads_received": 0, "leads_review": 0, "leads_awaiting_funds": 0, "leads_pending": 1,
    "leads_approved": 1, "leads_rejected": 1, "leads_returned": 0,
    "revenue_minor": 1500, "payout_minor": 1000,
}  # fmt: skip


@pytest.mark.parametrize("role", ["webmaster", "advertiser", "moderator", "admin"])
def test_every_role_sees_traffic_leads_and_rates(role):
    assert {"clicks", "leads", "leads_approved", "leads_returned", "cr", "ar", "epc"} <= set(
        columns_for(role)
    )


def test_a_webmaster_never_sees_revenue_or_margin():
    assert "payout_minor" in columns_for("webmaster")
    assert not {"revenue_minor", "margin_minor"} & set(columns_for("webmaster"))


def test_an_advertiser_never_sees_payout_or_margin():
    assert "revenue_minor" in columns_for("advertiser")
    assert not {"payout_minor", "margin_minor"} & set(columns_for("advertiser"))


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_see_all_the_money(role):
    assert {"revenue_minor", "payout_minor", "margin_minor"} <= set(columns_for(role))


def test_an_unknown_role_sees_nothing():
    assert columns_for("visitor") == ()
    assert figures_for("visitor", SUMS, "USD") == {}


def test_figures_keep_only_the_roles_columns():
    webmaster = figures_for("webmaster", SUMS, "USD")
    advertiser = figures_for("advertiser", SUMS, "USD")
    admin = figures_for("admin", SUMS, "USD")

    assert list(webmaster) == list(columns_for("webmaster"))
    assert webmaster["epc"] == Decimal("1.2500")  # $10.00 payout over 8 clicks
    assert advertiser["epc"] == Decimal("1.8750")  # $15.00 spend over 8 clicks
    assert admin["margin_minor"] == 500
    assert admin["cr"] == Decimal("0.3750") and admin["ar"] == Decimal("0.5000")


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (3, 4, "0.7500"),
        (2, 3, "0.6667"),
        (1, 3, "0.3333"),
        (1, 8, "0.1250"),
        (1, 20000, "0.0001"),  # 0.00005: half up
        (1, 20001, "0.0000"),
        (5, 4, "1.2500"),  # more leads than clicks (leads without a click)
        (0, 7, "0.0000"),
    ],
)
def test_ratios_are_exact_decimals_rounded_half_up_to_four_places(numerator, denominator, expected):
    assert ratio(numerator, denominator) == Decimal(expected)
    assert str(ratio(numerator, denominator)) == expected


def test_a_ratio_over_nothing_is_none():
    assert ratio(3, 0) is None
    assert per_click(1000, 0, "USD") is None


@pytest.mark.parametrize(
    ("amount_minor", "clicks", "currency", "expected"),
    [
        (1000, 8, "USD", "1.2500"),
        (1, 3, "USD", "0.0033"),
        (1000, 3, "JPY", "333.3333"),  # no minor unit
        (-150, 4, "USD", "-0.3750"),
    ],
)
def test_earnings_per_click_are_in_major_units(amount_minor, clicks, currency, expected):
    assert per_click(amount_minor, clicks, currency) == Decimal(expected)


def test_dimension_keys_name_days_hours_and_columns():
    assert dimension_keys(["day", "offer", "sub1"]) == ["day", "offer_id", "sub1"]
    assert dimension_keys(["hour", "webmaster", "advertiser", "country"]) == [
        "hour", "webmaster_id", "advertiser_id", "country",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("day", ["day"]),
        (" day ", ["day"]),
        ("day,", ["day"]),
        (",day", ["day"]),
        ("day, offer", ["day", "offer"]),
        ("day,,offer", ["day", "offer"]),
        ("day,, ", ["day"]),
        ("day offer", None),
        ("", None),
        (",", None),
        ("days", None),
        ("day,x", None),
    ],
)
def test_the_documented_group_by_pattern_takes_what_the_field_reads(text, read):
    """The OpenAPI document's pattern for group_by (issue 17) and the field agree."""
    field = ReportQuerySchema().fields["group_by"]
    try:
        loaded = field.deserialize(text)
    except ValidationError:
        loaded = None

    assert loaded == read
    assert bool(re.search(field.metadata["pattern"], text)) is (read is not None)
