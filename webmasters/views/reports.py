"""The webmaster's reports page and its CSV (exchange/reports/views.py): its own traffic."""

from __future__ import annotations

from exchange.accounts.views import role_required
from exchange.reports.views import report_csv, report_page
from webmasters.views.common import bp


@bp.get("/reports")
@role_required("webmaster")
def reports():
    return report_page()


@bp.get("/reports.csv")
@role_required("webmaster")
def reports_csv():
    return report_csv()
