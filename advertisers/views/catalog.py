"""The buyer's catalog page: the ready leads of GET /api/v1/catalog, filtered and paged, and
a Buy button on each.

The filters are read by the API's own schema (``CatalogQuerySchema``) and the rows are the
API's own items (``catalog.search``), so the page never shows what the API would not: no
personal field. A purchase is the API's (``catalog.purchases.buy``) at the price the page
showed; refused (sold out, gone, bought already, a new price, not enough money), the
catalog is shown again, as it was, with why (and the new price), and nothing moves. The
rows ticked for the basket are bought as one order in ``catalog_basket``.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from advertisers.views.common import bp
from billing.services import balances_of
from exchange import clock
from exchange.accounts.views import role_required
from exchange.catalog.domain import age_in_words
from exchange.catalog.models import CatalogListing
from exchange.catalog.purchases import Purchase, buy
from exchange.catalog.schemas import CatalogQuerySchema, PurchaseSchema
from exchange.catalog.search import SORTS, Search, search
from exchange.db import commit, rollback
from exchange.errors import AppError, field_messages
from exchange.extensions import db
from exchange.money import format_minor
from exchange.verticals.domain import TEMPERATURES
from exchange.verticals.models import Vertical
from exchange.verticals.services import all_verticals

# The query's fields, as GET /api/v1/catalog names them; the form has all but the paging.
FILTERS = (
    "vertical_id",
    "country",
    "region",
    "postcode_prefix",
    "temperature",
    "min_score",
    "max_age_hours",
    "exclusive_only",
    "sort",
)
PAGING = ("page", "per_page")


@bp.get("/catalog")
@role_required("advertiser")
def catalog():
    return catalog_page(request.args)


@bp.post("/catalog/<id:lead_id>/buy")
@role_required("advertiser")
def buy_from_catalog(lead_id: int):
    """One slot, or every slot (``exclusive``), at the price the page showed. The form's
    action carries the catalog's query, so that a refusal shows the same page again."""
    try:
        wanted = purchase_of(lead_id, request.form)
    except ValidationError as refused:
        return catalog_page(request.args, f"Lead {lead_id} was not bought: {problems_of(refused)}", 422)
    try:
        sale = buy(current_user.id, wanted)
        commit()
    except AppError as refused:
        rollback()
        return catalog_page(request.args, refusal_text(lead_id, wanted, refused), refused.status)
    money = format_minor(sale.price_minor, sale.currency)
    flash(
        f"Lead {lead_id} is yours{' exclusively' if sale.exclusive else ''}: sale {sale.id}, "
        f"{money} reserved from your balance. Approve or reject it by "
        f"{sale.review_deadline:%Y-%m-%d %H:%M} UTC.",
        "notice",
    )
    return redirect(url_for("advertiser_portal.purchases", _anchor=f"sale-{sale.id}"), code=303)


def catalog_page(
    query: MultiDict, problem: str | None = None, status: int = 200, selected: Collection[str] = ()
):
    """The form and, unless its values are refused (422), the page of leads they find; the
    basket's boxes ``selected`` ticked again (a refused basket is shown as it was sent)."""
    values = form_values(query)
    args, errors = read_args(values)
    context = {
        "values": values,
        "errors": errors,
        "problem": problem,
        "selected": set(selected),
        "verticals": all_verticals(active_only=True),
        "temperatures": TEMPERATURES,
        "sorts": SORTS,
        "balances": [b for b in balances_of(current_user.id) if b.purpose == "available"],
    }
    if errors:
        return render_template("advertiser_catalog.html", **context), 422
    found = search(Search(**args), clock.now())
    shown = {name: value for name, value in values.items() if value and name != "page"}
    return render_template(
        "advertiser_catalog.html",
        **context,
        found=found,
        rows=[item | {"age": age_in_words(item["age_seconds"])} for item in found["items"]],
        link_args=shown,  # the pager's links and the buy forms keep the query
        page_args=shown | {"page": found["page"]},
    ), status


def form_values(query: MultiDict) -> dict[str, str]:
    """The form's fields as sent (text); a country in upper case, as the API takes it."""
    values = {name: query.get(name, "").strip() for name in (*FILTERS, *PAGING)}
    values["country"] = values["country"].upper()
    return values


def read_args(values: dict[str, str]) -> tuple[dict, dict[str, list[str]]]:
    """The API's arguments, loaded by the API's schema from the fields filled in; or the
    messages by field."""
    try:
        return CatalogQuerySchema().load({name: value for name, value in values.items() if value}), {}
    except ValidationError as refused:
        return {}, field_messages(refused.normalized_messages())


def purchase_of(lead_id: int, form: MultiDict) -> Purchase:
    """The purchase the form asks for, loaded by the API's schema. The price shown is
    required here (the API lets a client leave it out and pay the price now)."""
    shown = form.get("expected_price_minor", "").strip()
    if not (shown.isascii() and shown.isdigit() and len(shown) <= 18):  # no int() of 4,300+ digits
        raise ValidationError(
            {"expected_price_minor": ["The price shown is missing or not a price: buy from the table."]}
        )
    body = PurchaseSchema().load(
        {"exclusive": form.get("exclusive") == "true", "expected_price_minor": int(shown)}
    )
    return Purchase(lead_id, body["exclusive"], body["expected_price_minor"])


def problems_of(refused: ValidationError) -> str:
    """The schema's messages as one sentence, for the page's problem line."""
    return "; ".join(m for ms in field_messages(refused.normalized_messages()).values() for m in ms)


def refusal_text(lead_id: int, wanted: Purchase, refused: AppError) -> str:
    """Why the purchase was not made."""
    return f"Lead {lead_id} was not bought: {reason_of(wanted, refused)}"


def reason_of(wanted: Purchase, refused: AppError) -> str:
    """Why ``wanted`` cannot be bought; for a new price, the price now and the price shown,
    since the buyer only ever agreed to the one it saw."""
    if refused.code == "price_changed":
        currency = _currency_of(wanted.lead_id)
        now = int(refused.fields["expected_price_minor"][0])
        return (
            f"its price is now {format_minor(now, currency)} "
            f"(the page showed {format_minor(wanted.expected_price_minor, currency)}). "
            "Its row below has the new price: buy it again if you want it."
        )
    return refused.message


def _currency_of(lead_id: int) -> str:
    return db.session.scalar(
        select(Vertical.currency)
        .join(CatalogListing, CatalogListing.vertical_id == Vertical.id)
        .where(CatalogListing.lead_id == lead_id)
    )
