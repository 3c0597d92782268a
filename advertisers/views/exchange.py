"""The buyer's exchange pages: buy orders (create, pause, today's wins and spend) and
purchases (the leads bought, approved, rejected or returned). The same services as the API;
amounts are typed in major units ("25.00") and stored in minor units."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from advertisers.views.common import acted, bp
from exchange import clock
from exchange.accounts.views import role_required
from exchange.actors import Actor
from exchange.buying.decisions import approve_sale, reject_sale
from exchange.buying.domain import PRICINGS
from exchange.buying.models import Sale
from exchange.buying.returns import open_sale_return, return_states
from exchange.buying.sales import lead_for_buyer, sales_of, sold_of_text
from exchange.buying.sales_csv import purchases_csv as purchases_csv_download
from exchange.buying.schemas import BuyOrderCreateSchema, SaleCsvQuerySchema, SaleReturnSchema
from exchange.buying.services import (
    buy_orders_of,
    create_buy_order,
    own_buy_order,
    today_of,
    update_buy_order,
)
from exchange.db import commit
from exchange.disputes.domain import SALE_RETURN_REASONS
from exchange.errors import AppError, Invalid, field_messages
from exchange.extensions import db
from exchange.money import parse_major
from exchange.offers.pricing import TEMPERATURES
from exchange.pagination import paginate
from exchange.quality.services import named_quality
from exchange.verticals.models import Vertical
from exchange.verticals.services import all_verticals

PER_PAGE = 50


def _words(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _order_from_form(form) -> tuple[dict, dict]:
    """The form as the API's body, and what could not be read (amounts, numbers)."""
    errors: dict[str, list[str]] = {}
    vertical = (
        db.session.get(Vertical, int(form["vertical_id"])) if form.get("vertical_id", "").isdigit() else None
    )
    currency = vertical.currency if vertical else "USD"

    def amount(name: str) -> int | None:
        text = form.get(name, "").strip()
        if not text:
            return None
        try:
            return parse_major(text, currency)
        except ValueError as error:
            errors[name] = [str(error)]
            return None

    def number(name: str) -> int | None:
        text = form.get(name, "").strip()
        if not text:
            return None
        if not text.isdigit():
            errors[name] = ["A whole number."]
            return None
        return int(text)

    pricing = form.get("pricing", "fixed")
    body = {
        "vertical_id": vertical.id if vertical else 0,
        "name": form.get("name", "").strip(),
        "exclusive": form.get("exclusive") == "on",
        "pricing": pricing,
        "bid_minor": amount("bid") if pricing == "fixed" else None,
        "ping_url": (form.get("ping_url", "").strip() or None) if pricing == "ping" else None,
        "max_bid_minor": amount("max_bid") if pricing == "ping" else None,
        "filters": {
            "countries": _words(form.get("countries", "")),
            "regions": _words(form.get("regions", "")),
            "min_temperature": form.get("min_temperature") or None,
        },
        "schedule": {
            "timezone": form.get("timezone", "UTC").strip() or "UTC",
            "from_hour": number("from_hour") if form.get("from_hour") else 0,
            "to_hour": number("to_hour") if form.get("to_hour") else 24,
        },
        "caps": {"day_leads": number("day_leads"), "day_money_minor": amount("day_budget")},
    }
    return body, errors


@bp.route("/buy-orders", methods=["GET", "POST"])
@role_required("advertiser")
def buy_orders():
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        body, errors = _order_from_form(form)
        if not errors:
            try:
                create_buy_order(current_user.id, BuyOrderCreateSchema().load(body))
                commit()
                flash("The buy order is live.", "notice")
                return redirect(url_for("advertiser_portal.buy_orders"), code=303)
            except ValidationError as error:
                errors = field_messages(error.normalized_messages())
            except AppError as refused:
                db.session.rollback()
                errors = field_messages(refused.fields or {"form": [refused.message]})
    orders = buy_orders_of(current_user.id)
    verticals = {vertical.id: vertical for vertical in all_verticals()}
    return render_template(
        "advertiser_buy_orders.html",
        orders=[(order, verticals.get(order.vertical_id), today_of(order)) for order in orders],
        verticals=[v for v in verticals.values() if v.status == "active"],
        pricings=PRICINGS,
        temperatures=TEMPERATURES,
        form=form,
        errors=errors,
        quality=named_quality(current_user.id, "advertiser"),
    ), (422 if errors else 200)


@bp.post("/buy-orders/<id:order_id>/status")
@role_required("advertiser")
def buy_order_status(order_id: int):
    wanted = "paused" if request.form.get("status") == "paused" else "active"
    own_buy_order(current_user.id, order_id)  # another's: 404
    return acted(
        lambda: update_buy_order(current_user.id, order_id, {"status": wanted}),
        f"The buy order is {wanted}.",
        url_for("advertiser_portal.buy_orders"),
    )


@bp.get("/purchases")
@role_required("advertiser")
def purchases():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    listed = paginate(sales_of(current_user).order_by(Sale.id.desc()), page, PER_PAGE)
    verticals = {vertical.id: vertical for vertical in all_verticals()}
    returns = return_states(listed["items"])
    rows = [
        (
            sale,
            verticals[sale.vertical_id],
            lead_for_buyer(sale),
            sold_of_text(sale, verticals[sale.vertical_id]),
            *returns[sale.id],
        )
        for sale in listed["items"]
    ]
    return render_template(
        "advertiser_purchases.html", rows=rows, page=listed, now=clock.now(), reasons=SALE_RETURN_REASONS
    )


@bp.get("/purchases.csv")
@role_required("advertiser")
def purchases_csv():
    """The page's "Download CSV": the API's CSV (``GET /api/v1/sales.csv``, its filters
    too) through the portal's session, for a buyer without an API key."""
    try:
        args = SaleCsvQuerySchema().load(request.args)
    except ValidationError as error:
        fields = field_messages(error.normalized_messages())
        raise Invalid("Some fields are invalid.", fields=fields) from error
    return purchases_csv_download(current_user, args)


@bp.post("/purchases/<id:sale_id>/return")
@role_required("advertiser")
def return_purchase(sale_id: int):
    """A return from the purchases page: the reason and the evidence, as the API takes them."""
    back = url_for("advertiser_portal.purchases", _anchor=f"sale-{sale_id}")
    try:
        data = SaleReturnSchema().load(
            {"reason": request.form.get("reason", ""), "evidence": request.form.get("evidence", "")}
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in field_messages(error.messages).items()
        )
        flash(f"Not done: {problems}")
        return redirect(back, code=303)
    actor = Actor(kind="user", user_id=current_user.id, label=current_user.email)
    return acted(
        lambda: open_sale_return(current_user, actor, sale_id, data["reason"], data["evidence"]),
        f"Return asked of sale {sale_id}: its seller answers next; nothing moves until then.",
        back,
    )


@bp.post("/purchases/<id:sale_id>/<any(approve, reject):decision>")
@role_required("advertiser")
def decide_purchase(sale_id: int, decision: str):
    reason = request.form.get("reason", "").strip()[:500] or None
    if decision == "approve":
        action, done = (lambda: approve_sale(sale_id, current_user.id)), "Approved: the charge is final."
    else:
        action, done = (
            (lambda: reject_sale(sale_id, current_user.id, reason)),
            "Rejected: your money is back.",
        )
    return acted(action, done, url_for("advertiser_portal.purchases"))
