"""The advertiser's pages, one blueprint (``advertiser_portal``, in ``common.py``): the dashboard and the
card top-up in ``home.py``; offers, the lead inbox, delivery, disputes, reports, the account, the
exchange's buy orders and purchases, and its catalog and the catalog's basket in a module each."""

from advertisers.views import (  # noqa: F401  (their routes are on bp)
    account,
    catalog,
    catalog_basket,
    delivery,
    disputes,
    exchange,
    home,
    leads,
    offers,
    reports,
)
from advertisers.views.common import bp

__all__ = ["bp"]
