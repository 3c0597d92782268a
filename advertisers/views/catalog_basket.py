"""The catalog page's basket: the rows the buyer ticks, bought as one order by the API's own
``buy_all`` (POST /api/v1/catalog/baskets), so a selection is every lead at the price the
page showed, or none.

The table's boxes belong to the basket form (``form="basket"``), so the selection works
without JavaScript and beside each row's own Buy forms (forms cannot nest). A box's value
is the whole choice, ``lead:slot:price`` (``12:shared:800``, ``12:exclusive:1600``): the
price the row showed travels with the box that was ticked. Refused, the catalog is shown
again with the boxes as they were sent (a row whose price moved shows its new price, not
ticked), why, and nothing bought.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from advertisers.views.catalog import catalog_page, problems_of, reason_of, refusal_text
from advertisers.views.common import bp
from exchange.accounts.views import role_required
from exchange.buying.models import Sale
from exchange.catalog.purchases import MAX_BASKET, Purchase, buy_all
from exchange.catalog.schemas import BasketSchema
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.money import format_minor

# A box's value. The digits are bounded so that no value, however long, costs more than
# the schema's range check to read (Python refuses to read ints of 4,300+ digits).
CHOICE = re.compile(r"(\d{1,18}):(shared|exclusive):(\d{1,18})", re.ASCII)


@bp.post("/catalog/basket")
@role_required("advertiser")
def buy_selection():
    """Every ticked lead in one call of ``buy_all``, then one commit. The form's action
    carries the catalog's query, so that a refusal shows the same page again."""
    selected = request.form.getlist("selected")
    try:
        basket = basket_of(selected)
    except ValidationError as refused:
        return catalog_page(request.args, f"Nothing was bought: {problems_of(refused)}", 422, selected)
    try:
        sales = buy_all(current_user.id, basket)
        commit()
    except AppError as refused:
        rollback()
        return catalog_page(request.args, basket_refusal_text(basket, refused), refused.status, selected)
    flash(bought_text(sales), "notice")
    return redirect(url_for("advertiser_portal.purchases"), code=303)


def basket_of(selected: list[str]) -> list[Purchase]:
    """The purchases the ticked boxes ask for, loaded by the API's ``BasketSchema`` (its
    ranges); the page's own messages first for what a buyer can do by hand: tick nothing,
    tick too many, or tick both a lead's slot and all its slots."""
    if not selected:
        raise ValidationError("no lead is selected. Tick the leads you want in the table, then buy them.")
    if len(selected) > MAX_BASKET:
        raise ValidationError(f"{len(selected)} leads are selected; one order buys {MAX_BASKET} at most.")
    choices = [CHOICE.fullmatch(value) for value in selected]
    if not all(choices):
        raise ValidationError("the selection is not one the table sends. Tick the leads again.")
    items = [
        {"lead_id": int(lead_id), "exclusive": slot == "exclusive", "expected_price_minor": int(price)}
        for lead_id, slot, price in (choice.groups() for choice in choices)
    ]
    twice = [lead_id for lead_id, n in Counter(item["lead_id"] for item in items).items() if n > 1]
    if twice:
        raise ValidationError(f"lead {twice[0]} is selected twice. Tick one slot or every slot, not both.")
    body = BasketSchema().load({"items": items})
    return [
        Purchase(item["lead_id"], item["exclusive"], item["expected_price_minor"]) for item in body["items"]
    ]


def basket_refusal_text(basket: list[Purchase], refused: AppError) -> str:
    """Why nothing was bought: the lead ``buy_all`` names (the first that cannot be bought)
    and why; a basket of one reads as that lead's Buy button does."""
    named = refused.fields.get("lead_ids", [])
    wanted = next((purchase for purchase in basket if [str(purchase.lead_id)] == named), None)
    if wanted is not None and len(basket) == 1:
        return refusal_text(wanted.lead_id, wanted, refused)
    nothing = f"None of the {len(basket)} selected leads was bought"
    if wanted is None:  # not one lead's fault: the reservation of the whole order failed
        return f"{nothing}: {refused.message}"
    return f"{nothing}, because of lead {wanted.lead_id}: {reason_of(wanted, refused)}"


def bought_text(sales: list[Sale]) -> str:
    """The notice on Purchases: the leads, their sales and what was reserved, by currency
    (a selection may span verticals of several)."""
    totals: dict[str, int] = defaultdict(int)
    for sale in sales:
        totals[sale.currency] += sale.price_minor
    leads = ", ".join(f"{sale.lead_id}{' (exclusively)' if sale.exclusive else ''}" for sale in sales)
    numbers = ", ".join(str(sale.id) for sale in sales)
    money = " and ".join(format_minor(total, currency) for currency, total in sorted(totals.items()))
    one = len(sales) == 1
    return (
        f"{'Lead' if one else 'Leads'} {leads} {'is' if one else 'are'} yours: "
        f"{'sale' if one else 'sales'} {numbers}, {money} reserved from your balance. "
        f"Approve or reject {'it' if one else 'them'} by {first_deadline(sales):%Y-%m-%d %H:%M} UTC."
    )


def first_deadline(sales: list[Sale]) -> datetime:
    """The earliest review deadline: verticals set their own windows, and the earliest is
    the one date that is safe to tell for them all."""
    return min(sale.review_deadline for sale in sales)
