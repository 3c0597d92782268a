"""The webmaster's reports page and its CSV (exchange/reports/pages.py): its own traffic."""

from __future__ import annotations

from exchange.accounts.views import role_required
from exchange.reports.pages import report_csv, report_page
from webmasters.pages_common import bp


@bp.get("/reports")
@role_required("webmaster")
def reports():
    return report_page()


@bp.get("/reports.csv")
@role_required("webmaster")
def reports_csv():
    return report_csv()
