"""Amounts in minor units: shown to people, read from them, and taken a share of. Pure;
integers only."""

from __future__ import annotations

BPS_WHOLE = 10_000  # 100 %, in basis points

# ISO 4217 currencies whose minor unit is not a hundredth.
MINOR_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def format_minor(amount_minor: int, currency: str) -> str:
    """``format_minor(123456, "USD") == "1,234.56 USD"``; ``(500, "JPY") == "500 JPY"``."""
    amount_minor = int(amount_minor)  # a database SUM may come back as an (integral) Decimal
    digits = MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    text = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency}"


def parse_major(text: str, currency: str) -> int:
    """An amount written in major units (``"49.90"``, ``"49.9"``, ``"49"``) as minor units.

    Exact: more decimals than the currency has is an error, never a rounding. Raises ValueError."""
    digits = MINOR_DIGITS.get(currency, 2)
    whole, dot, fraction = text.strip().partition(".")
    if (
        not whole.isdigit()
        or not whole.isascii()
        or (dot and not (fraction.isdigit() and fraction.isascii()))
    ):
        raise ValueError("an amount like 49.90: digits, one optional point, no sign")
    if len(fraction) > digits:
        raise ValueError(f"{currency} has {digits} decimal places")
    return int(whole) * 10**digits + int(fraction.ljust(digits, "0") or 0)


def times_bps(amount_minor: int, bps: int) -> int:
    """``amount_minor`` times ``bps`` basis points, rounded half up to a minor unit; a
    positive amount never comes to nothing (at least one minor unit). A price at a
    multiplier (exchange/quality) or at an age step's percent (``bps = percent * 100``)."""
    product = (2 * amount_minor * bps + BPS_WHOLE) // (2 * BPS_WHOLE)
    return max(product, 1) if amount_minor > 0 else product


def format_bps(bps: int) -> str:
    """A share in basis points as a percentage: ``format_bps(1000) == "10 %"``, ``(725) == "7.25 %"``."""
    whole, hundredths = divmod(bps, 100)
    return f"{whole} %" if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0") + " %"
