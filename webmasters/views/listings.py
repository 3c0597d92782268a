"""The seller's catalog page: its own leads in the catalog, those for sale first, each with
its age, slots, age step and what the next sale of it would pay the seller.

The rows come from the search behind GET /api/v1/catalog/mine (``catalog.search``, with
the seller's id), so the payout is the API's; the page adds the listings not for sale now
(sold out, aged out, a paused vertical), with no step or payout. A row copies only what
the page shows: never the buyer's price, a buyer or a personal field.
"""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from exchange import clock
from exchange.accounts.views import role_required
from exchange.catalog.domain import age_in_words, step_in_words
from exchange.catalog.schemas import SellerListingsQuerySchema
from exchange.catalog.search import Search, search
from exchange.errors import field_messages
from exchange.quality.services import named_quality
from exchange.verticals.domain import Step
from exchange.verticals.services import all_verticals, standings_of
from webmasters.views.common import bp

QUERY = ("vertical_id", "listed", "page", "per_page")  # SellerListingsQuerySchema's fields
SHOWN = (  # the search's item keys the page shows
    "lead_id",
    "vertical",
    "country",
    "region",
    "temperature",
    "score",
    "slots",
    "slots_sold",
    "currency",
    "payout_minor",
)


@bp.get("/listings")
@role_required("webmaster")
def listings():
    values = {name: request.args.get(name, "").strip() for name in QUERY}
    verticals = all_verticals()
    context = {
        "values": values,
        "verticals": [v for v in verticals if v.id in standings_of(current_user.id)],
        "quality": named_quality(current_user.id, "webmaster"),
    }
    try:
        args = SellerListingsQuerySchema().load({name: value for name, value in values.items() if value})
    except ValidationError as refused:
        return render_template(
            "webmaster_listings.html", **context, errors=field_messages(refused.normalized_messages())
        ), 422
    found = search(Search(**args, seller_id=current_user.id), clock.now())
    kept = {name: value for name, value in values.items() if value and name != "page"}
    return render_template(
        "webmaster_listings.html",
        **context,
        errors={},
        found=found,
        rows=[row_of(item) for item in found["items"]],
        link_args=kept,
    )


def row_of(item: dict) -> dict:
    """What the page shows of one of the search's items (never its price)."""
    if item["for_sale"]:
        status = "for sale"
        step = step_in_words(Step(item["age_step_after_hours"], item["age_step_percent"]))
    else:
        status = "sold out" if item["slots_sold"] >= item["slots"] else "off the catalog"
        step = None
    return {name: item[name] for name in SHOWN} | {
        "age": age_in_words(item["age_seconds"]),
        "status": status,
        "step": step,
    }
