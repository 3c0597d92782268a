"""The reports page of each role (``/advertiser/reports``, ``/webmaster/reports``,
``/admin/reports``) and its CSV download: one view, registered by each portal.

The form's arguments are read by the API's own schema (``ReportQuerySchema``), the rows
come from the same query, with the viewer's role's columns (``domain.columns_for``), and
the CSV is the API's (``api.csv_download``): a page never shows what the API would not.
Bad arguments: the form again with a message by each field (422), and no figures.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice

from flask import render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from exchange import clock
from exchange.accounts.models import User
from exchange.extensions import db
from exchange.money import format_minor
from exchange.offers.models import Offer
from exchange.reports.api import csv_download
from exchange.reports.domain import MONEY_COLUMNS, columns_for, dimension_keys, epc_text
from exchange.reports.query import changes_waiting, report, report_rows
from exchange.reports.schemas import ReportQuerySchema

GRAINS = ("day", "hour")
# What each role may group and filter by on its page. The API takes every dimension from
# every role (rows are scoped anyway); the page offers those that tell the role something.
GROUPS_BY_ROLE = {
    "webmaster": ("offer", "sub1", "country"),
    "advertiser": ("offer", "webmaster", "sub1", "country"),
    "admin": ("offer", "webmaster", "advertiser", "sub1", "country"),
}
FILTERS_BY_ROLE = {
    "webmaster": ("offer_id", "sub1", "country"),
    "advertiser": ("offer_id", "webmaster_id", "sub1", "country"),
    "admin": ("offer_id", "webmaster_id", "sub1", "country"),
}
MAX_ROWS = 1000  # on the page; the CSV has them all
HOURS_FILLED_UP_TO_DAYS = 31  # a longer hourly chart shows only the hours with figures

LABELS = {
    "day": "Day",
    "hour": "Hour (UTC)",
    "offer_id": "Offer",
    "webmaster_id": "Webmaster",
    "advertiser_id": "Advertiser",
    "sub1": "sub1",
    "country": "Country",
    "currency": "Currency",
    "clicks": "Clicks",
    "unique_clicks": "Unique clicks",
    "leads": "Leads",
    "leads_received": "Received",
    "leads_review": "In review",
    "leads_awaiting_funds": "Awaiting funds",
    "leads_pending": "Pending",
    "leads_approved": "Approved",
    "leads_rejected": "Rejected",
    "leads_returned": "Returned",
    "cr": "CR",
    "ar": "AR",
    "revenue_minor": "Revenue",
    "payout_minor": "Payout",
    "margin_minor": "Margin",
    "epc": "EPC",
}
TITLES = {
    "cr": "Conversion rate: leads / clicks",
    "ar": "Approval rate: approved / (approved + rejected)",
    "epc": "Earnings per click, in the currency (not per 100 clicks)",
}


def report_page():
    """The form, and unless its arguments are refused, the table, totals and chart."""
    role = current_user.role
    values = form_values(request.args, role)
    args, errors = read_args(values, role)
    context = {
        "values": values,
        "errors": errors,
        "grains": GRAINS,
        "groups": GROUPS_BY_ROLE[role],
        "filters": FILTERS_BY_ROLE[role],
        "labels": LABELS,
        "titles": TITLES,
        "endpoint": f"{request.blueprint}.reports",
        "now": clock.now(),
        "waiting": changes_waiting(current_user),
    }
    if errors:
        return render_template("reports.html", **context), 422
    return render_template("reports.html", **context, **_figures(current_user, args, values))


def report_csv():
    """The CSV of what the page shows (every row), or the page with its messages."""
    role = current_user.role
    args, errors = read_args(form_values(request.args, role), role)
    if errors:
        return report_page()
    return csv_download(current_user, args)


def form_values(query: MultiDict, role: str) -> dict:
    """The form's fields as sent (text), the defaults filled in: the last 30 days, by day."""
    today = clock.now().date()
    groups = [name for name in query.getlist("group") if name]
    values = {
        "since": query.get("since", "").strip() or (today - timedelta(days=29)).isoformat(),
        "until": query.get("until", "").strip() or today.isoformat(),
        "grain": query.get("grain", "").strip() or "day",
        "group": groups,
    }
    for name in FILTERS_BY_ROLE[role]:
        values[name] = query.get(name, "").strip()
    return values


def read_args(values: dict, role: str) -> tuple[dict, dict[str, list[str]]]:
    """The API's arguments from the form's values, loaded by the API's schema; or the
    messages by form field."""
    errors: dict[str, list[str]] = {}
    if values["grain"] not in GRAINS:
        errors["grain"] = ["Day or hour."]
    unknown = [name for name in values["group"] if name not in GROUPS_BY_ROLE[role]]
    if unknown:
        errors["group"] = [f"Unknown: {', '.join(unknown)}. Any of: {', '.join(GROUPS_BY_ROLE[role])}."]
    try:
        args = ReportQuerySchema().load(api_fields(values, role))
    except ValidationError as refused:
        for name, messages in refused.normalized_messages().items():
            field = "group" if name == "group_by" else name
            errors.setdefault(field, []).extend(str(m) for m in _listed(messages))
        return {}, errors
    return (args, {}) if not errors else ({}, errors)


def api_fields(values: dict, role: str) -> dict[str, str]:
    """The form's values as GET /api/v1/reports' query (also what an export task is given)."""
    fields = {"group_by": ",".join([values["grain"], *values["group"]])}
    fields.update((name, values[name]) for name in ("since", "until", *FILTERS_BY_ROLE[role]) if values[name])
    return fields


def _listed(messages) -> list:
    return messages if isinstance(messages, list) else [messages]


def _figures(viewer: User, args: dict, values: dict) -> dict:
    group_by, since, until = args["group_by"], args["since"], args["until"]
    keys = [*dimension_keys(group_by), "currency"]
    columns = list(columns_for(viewer.role))
    rows = list(islice(report_rows(viewer, group_by, args, since, until), MAX_ROWS + 1))
    over = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    totals = report(viewer, [], args, since, until)
    series = (
        rows
        if group_by == [values["grain"]] and not over
        else report(viewer, group_by[:1], args, since, until)
    )
    link_args = {name: value for name, value in values.items() if value}
    return {
        "keys": keys,
        "columns": columns,
        "rows": [_shown(row, keys, columns) for row in rows],
        "over": over,
        "totals": [_shown(row, ["currency"], columns) for row in totals],
        "chart": chart_points(series, values["grain"], since, until),
        "csv_url": url_for(f"{request.blueprint}.reports_csv", **link_args),
        "export_fields": api_fields(values, viewer.role),
        "offer_names": _offer_names(rows, keys),
    }


def _shown(row: dict, keys: list[str], columns: list[str]) -> list[tuple[str, str]]:
    """Each cell as (the API's JSON value, the text on the page)."""
    currency = row["currency"]
    return [(_api_value(row[name]), _text(name, row[name], currency)) for name in (*keys, *columns)]


def _api_value(value) -> str:
    """What GET /api/v1/reports answers for the cell, as text."""
    if value is None:
        return ""
    return clock.isoformat(value) if isinstance(value, date) else str(value)


def _text(name: str, value, currency: str) -> str:
    if name in MONEY_COLUMNS:
        return format_minor(value, currency)
    if name == "epc":
        return epc_text(value, currency)
    if name in ("cr", "ar"):
        return "–" if value is None else f"{value * 100:.2f} %"
    if name == "hour":
        return value.strftime("%Y-%m-%d %H:00")
    if name in ("sub1", "country") and value == "":
        return "(none)"
    return _api_value(value)


def _offer_names(rows: list, keys: list[str]) -> dict[str, str]:
    """Names of the offers in the rows (the rows are scoped: the viewer may see them)."""
    if "offer_id" not in keys:
        return {}
    ids = {row["offer_id"] for row in rows}
    found = db.session.execute(select(Offer.id, Offer.name).where(Offer.id.in_(ids))) if ids else []
    return {str(offer_id): name for offer_id, name in found}


def chart_points(series: list[dict], grain: str, since: date, until: date) -> list[dict]:
    """Clicks, leads and approved leads per day or hour (all currencies), oldest first;
    days with no figures are zeros (hours too, over a month at most)."""
    points: dict[str, dict] = {}
    for row in series:
        label = _bucket_label(row[grain], grain)
        point = points.setdefault(label, {"at": label, "clicks": 0, "leads": 0, "approved": 0})
        point["clicks"] += row.get("clicks", 0)
        point["leads"] += row.get("leads", 0)
        point["approved"] += row.get("leads_approved", 0)
    for label in _every_bucket(grain, since, until):
        points.setdefault(label, {"at": label, "clicks": 0, "leads": 0, "approved": 0})
    return [points[label] for label in sorted(points)]


def _bucket_label(value, grain: str) -> str:
    return value.strftime("%Y-%m-%d %H:00") if grain == "hour" else value.isoformat()


def _every_bucket(grain: str, since: date, until: date) -> list[str]:
    days = (until - since).days + 1
    if grain == "day":
        return [(since + timedelta(days=n)).isoformat() for n in range(days)]
    if days > HOURS_FILLED_UP_TO_DAYS:
        return []
    start = datetime.combine(since, datetime.min.time())
    return [_bucket_label(start + timedelta(hours=n), "hour") for n in range(24 * days)]
