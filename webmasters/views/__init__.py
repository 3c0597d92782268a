"""The webmaster's pages, one blueprint (``webmaster_portal``, in ``common.py``): the dashboard in
``home.py``; the catalog and offer pages, leads with appeals, postback settings, payouts, disputes,
API keys, reports and its leads in the exchange's catalog (``listings.py``) in a module each. Pages only
translate: they call the same services as the API and commit once; a refused action is said on
the page."""

from webmasters.views import (  # noqa: F401  (their routes are on bp)
    disputes,
    exchange,
    home,
    keys,
    leads,
    listings,
    offers,
    payouts,
    postbacks,
    reports,
)
from webmasters.views.common import bp

__all__ = ["bp"]
