"""Small pieces of SQL text the models share."""

from __future__ import annotations


def sql_in(values: tuple[str, ...]) -> str:
    """The list of an ``IN (...)`` check: ``'a', 'b'`` (values are our own constants, never input)."""
    return ", ".join(f"'{value}'" for value in values)
