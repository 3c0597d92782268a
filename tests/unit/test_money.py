import pytest

from exchange.money import format_minor


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
