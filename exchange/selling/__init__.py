"""Selling on the exchange: sellers submit leads to a vertical (API, hosted form), validation
judges them against the vertical, and accepted leads go to auction."""
