import pytest

from exchange.money import format_bps, format_minor, parse_major


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "USD", "1,234.56 USD"),
        (5, "EUR", "0.05 EUR"),
        (0, "USD", "0.00 USD"),
        (-1500, "USD", "-15.00 USD"),
        (500, "JPY", "500 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (10**15 + 1, "USD", "10,000,000,000,000.01 USD"),  # exact: no float anywhere
    ],
)
def test_amounts_are_shown_with_their_currencys_minor_digits(amount, currency, shown):
    assert format_minor(amount, currency) == shown


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("49.90", "USD", 4990),
        ("49.9", "USD", 4990),
        ("49", "USD", 4900),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1.005", "KWD", 1005),
    ],
)
def test_an_amount_in_major_units_reads_exactly_as_minor_units(text, currency, minor):
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize("text", ["", "-1", "1.001", ".5", "1.", "1e3", "1,5", "\uff11", "NaN", " 1 2"])
def test_an_amount_that_is_not_plain_digits_or_has_too_many_decimals_is_refused(text):
    with pytest.raises(ValueError):
        parse_major(text, "USD")


def test_a_share_in_basis_points_shows_as_a_percentage_without_needless_zeros():
    assert [format_bps(bps) for bps in (1000, 725, 750, 1, 10_000)] == [
        "10 %",
        "7.25 %",
        "7.5 %",
        "0.01 %",
        "100 %",
    ]


def test_an_integral_decimal_from_a_database_sum_formats_like_its_integer():
    from decimal import Decimal

    assert format_minor(Decimal(123456), "USD") == "1,234.56 USD"
