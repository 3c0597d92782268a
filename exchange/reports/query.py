"""Reports over the rollups: ``report_daily``, or ``report_hourly`` when grouped by hour.

As fresh as the last fold (every 30 s; ``flask reports fold`` makes them current).
Webmasters see only their own rows, advertisers only their offers'; the columns are
those of the viewer's role (domain.COLUMNS_BY_ROLE).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from exchange.accounts.models import User
from exchange.errors import Forbidden
from exchange.extensions import db
from exchange.offers.models import Offer
from exchange.reports.domain import DIMENSIONS, dimension_keys, figures_for, hidden_groups
from exchange.reports.models import ReportChange, ReportDaily, ReportHourly
from exchange.reports.rollup import COUNTS

FILTERS = ("offer_id", "webmaster_id", "sub1", "country")


def check_groups(viewer: User, group_by: list[str]) -> None:
    """Refuse (403) a grouping the viewer's role may not see, before any row is read."""
    hidden = hidden_groups(viewer.role, group_by)
    if hidden:
        names = ", ".join(hidden)
        raise Forbidden(f"Not yours to group by: {names}.", fields={"group_by": [f"Not available: {names}."]})


def report(viewer: User, group_by: list[str], filters: dict, since: date, until: date) -> list[dict]:
    """One row per group (and currency), ordered by the groups; days both included."""
    return list(report_rows(viewer, group_by, filters, since, until))


def report_rows(viewer: User, group_by: list[str], filters: dict, since: date, until: date) -> Iterator[dict]:
    table = ReportHourly if "hour" in group_by else ReportDaily
    if table is ReportHourly:
        first, after = (
            datetime.combine(since, datetime.min.time()),
            datetime.combine(until + timedelta(days=1), datetime.min.time()),
        )
    else:
        first, after = since, until + timedelta(days=1)
    groups = [getattr(table, DIMENSIONS[name]) for name in group_by]
    query = (
        select(*groups, table.currency, *(func.sum(getattr(table, name)) for name in COUNTS))
        .where(table.bucket >= first, table.bucket < after, *_scope(table, viewer))
        .where(*(getattr(table, name) == filters[name] for name in FILTERS if filters.get(name) is not None))
        .group_by(*groups, table.currency)
        .order_by(*groups, table.currency)
    )
    keys = dimension_keys(group_by)
    for row in db.session.execute(query):
        values = list(row)
        grouped, currency, sums = values[: len(groups)], values[len(groups)], values[len(groups) + 1 :]
        out = {key: _plain(key, value) for key, value in zip(keys, grouped, strict=True)}
        out["currency"] = currency
        out.update(
            figures_for(viewer.role, {n: int(v or 0) for n, v in zip(COUNTS, sums, strict=True)}, currency)
        )
        yield out


def changes_waiting(viewer: User) -> int | None:
    """Changes of clicks and leads not folded yet, that the viewer may know of: every one
    for staff, those of its offers for an advertiser; None for a webmaster (markers are per
    offer, so a count would tell of other webmasters' traffic on the same offers)."""
    query = select(func.count()).select_from(ReportChange)
    if viewer.role == "advertiser":
        query = query.where(
            ReportChange.offer_id.in_(select(Offer.id).where(Offer.advertiser_id == viewer.id))
        )
    elif viewer.role not in ("moderator", "admin"):
        return None
    return db.session.scalar(query) or 0


def _scope(table, viewer: User) -> list:
    if viewer.role == "webmaster":
        return [table.webmaster_id == viewer.id]
    if viewer.role == "advertiser":
        return [table.advertiser_id == viewer.id]
    if viewer.role in ("moderator", "admin"):
        return []
    return [False]  # no other role sees any row


def _plain(key: str, value):
    """A day as a date, an hour as a datetime, whatever the database answered."""
    if key == "day" and not isinstance(value, date):
        return date.fromisoformat(str(value)[:10])
    if key == "day" and isinstance(value, datetime):
        return value.date()
    if key == "hour" and not isinstance(value, datetime):
        return datetime.fromisoformat(str(value))
    return value
