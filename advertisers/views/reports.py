"""The advertiser's reports page and its CSV (exchange/reports/views.py): its offers' rows."""

from __future__ import annotations

from advertisers.views.common import bp
from exchange.accounts.views import role_required
from exchange.reports.views import report_csv, report_page


@bp.get("/reports")
@role_required("advertiser")
def reports():
    return report_page()


@bp.get("/reports.csv")
@role_required("advertiser")
def reports_csv():
    return report_csv()
