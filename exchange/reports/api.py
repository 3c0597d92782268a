"""``GET /api/v1/reports`` and ``GET /api/v1/reports.csv`` (docs/reports.md).

Every role calls the same endpoints; the rows are scoped to the caller (webmasters:
their own traffic; advertisers: their offers') and the columns are its role's.
"""

from __future__ import annotations

from datetime import date

from billing.statements.csv_rows import csv_response
from exchange import clock
from exchange.accounts.auth import api_key_required, caller
from exchange.accounts.models import User
from exchange.openapi import CSV_BODY, Blueprint
from exchange.reports.csv_rows import csv_names, csv_rows
from exchange.reports.domain import columns_for, dimension_keys
from exchange.reports.query import check_groups, report, report_rows
from exchange.reports.schemas import MAX_DAYS_APART, ReportQuerySchema, ReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Reports from the rollups")
RULES = (
    f"until: not before since, at most {MAX_DAYS_APART} days after it",
    "group_by: each once; day or hour, not both",
)
ROLES = ("advertiser", "webmaster", "moderator", "admin")


@blp.route("/reports", methods=["GET"])
@blp.rules(*RULES)
@api_key_required(*ROLES)
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema)
def reports(args: dict):
    """Clicks, leads by status, rates and money by the groups asked for, over
    ``since``..``until`` (UTC days, both included); as fresh as the last fold (30 s).
    Money in minor units; ``cr``, ``ar`` and ``epc`` as decimal strings (4 places)."""
    viewer = caller()
    check_groups(viewer, args["group_by"])
    rows = report(viewer, args["group_by"], args, args["since"], args["until"])
    return {
        "since": args["since"],
        "until": args["until"],
        "group_by": args["group_by"],
        "columns": [*dimension_keys(args["group_by"]), "currency", *columns_for(viewer.role)],
        "rows": [_json_row(row) for row in rows],
    }


@blp.route("/reports.csv", methods=["GET"])
@blp.rules(*RULES)
@api_key_required(*ROLES)
@blp.arguments(ReportQuerySchema, location="query")
@blp.doc(responses=CSV_BODY)
@blp.response(200, description="text/csv: a header row, then one row per group (money in major units)")
def reports_csv(args: dict):
    return csv_download(caller(), args)


def csv_download(viewer: User, args: dict):
    """The report's CSV, streamed: the API's download and the report pages' (same args)."""
    check_groups(viewer, args["group_by"])
    header = [*dimension_keys(args["group_by"]), "currency", *csv_names(columns_for(viewer.role))]
    rows = report_rows(viewer, args["group_by"], args, args["since"], args["until"])
    filename = f"report-{args['since']}-{args['until']}-by-{'-'.join(args['group_by'])}.csv"
    return csv_response(header, csv_rows(rows, header), filename)


def _json_row(row: dict) -> dict:
    return {key: _json_value(value) for key, value in row.items()}


def _json_value(value):
    if isinstance(value, date):
        return clock.isoformat(value)
    if value is not None and not isinstance(value, (int, str)):
        return str(value)  # a Decimal rate: exact
    return value
