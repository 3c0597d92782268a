"""Staff's exchange pages: the verticals (define one, change its floors, margin, slots and
windows, the sellers waiting for approval) and the auction log, every auction whole."""

from __future__ import annotations

import json

from flask import render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from exchange.accounts.views import role_required
from exchange.admin.views.common import acted, bp
from exchange.auctions.log import auction_for, auctions_for, view_of
from exchange.auctions.models import Auction
from exchange.db import commit, rollback
from exchange.errors import AppError, field_messages
from exchange.extensions import db
from exchange.pagination import paginate
from exchange.verticals.domain import STATUSES
from exchange.verticals.models import VerticalSeller
from exchange.verticals.schemas import VerticalCreateSchema
from exchange.verticals.services import (
    all_verticals,
    create_vertical,
    decide_seller,
    get_vertical,
    update_vertical,
)

STAFF = ("admin", "moderator")  # moderators read; only admins change a vertical
PER_PAGE = 50
EXAMPLE_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "country", "type": "country", "required": True},
]


def _vertical_from_form(form) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    parsed = {}
    for name in ("fields", "floors"):
        try:
            parsed[name] = json.loads(form.get(name) or "null")
        except ValueError:
            errors[name] = ["Not JSON."]
    body = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip(),
        "currency": form.get("currency", "").strip().upper(),
        "fields": parsed.get("fields"),
        "floors": parsed.get("floors"),
        "personal_fields": [n.strip() for n in form.get("personal_fields", "").split(",") if n.strip()],
        "allowed_countries": [
            c.strip().upper() for c in form.get("allowed_countries", "").split(",") if c.strip()
        ],
        "margin_bps": int(form["margin_bps"]) if form.get("margin_bps", "").isdigit() else 0,
        "slots": int(form["slots"]) if form.get("slots", "").isdigit() else 1,
        "sellers_need_approval": form.get("sellers_need_approval") == "on",
    }
    return body, errors


@bp.route("/admin/verticals", methods=["GET", "POST"])
@role_required(*STAFF)
def verticals():
    errors: dict = {}
    if request.method == "POST":
        body, errors = _vertical_from_form(request.form)
        if not errors:
            try:
                create_vertical(VerticalCreateSchema().load(body))
                commit()
            except ValidationError as error:
                errors = field_messages(error.normalized_messages())
            except AppError as refused:
                rollback()
                errors = refused.fields or {"name": [refused.message]}
    waiting = list(db.session.scalars(select(VerticalSeller).where(VerticalSeller.status == "pending")))
    return render_template(
        "admin_verticals.html",
        verticals=all_verticals(),
        waiting=waiting,
        form=request.form if errors else {},
        errors=errors,
        example_fields=json.dumps(EXAMPLE_FIELDS),
    ), (422 if errors else 200)


EDITABLE_NUMBERS = (
    "margin_bps",
    "margin_minor",
    "slots",
    "duplicate_window_seconds",
    "review_window_seconds",
    "hold_seconds",
    "return_window_seconds",
)
OPTIONAL_NUMBERS = {  # empty: none
    "retention_days": "A whole number of days, or empty.",  # personal data kept (docs/privacy.md)
    "return_cap_percent": "A whole percent, or empty for no cap.",
}


def _changes_from_form(form) -> tuple[dict, dict]:
    """The settings a vertical's page changes: prices and rules, never its fields or currency."""
    errors: dict[str, list[str]] = {}
    changes: dict = {
        "status": form.get("status", ""),
        "sellers_need_approval": form.get("sellers_need_approval") == "on",
    }
    try:
        changes["floors"] = json.loads(form.get("floors") or "null")
    except ValueError:
        errors["floors"] = ["Not JSON."]
    changes["allowed_countries"] = [
        c.strip().upper() for c in form.get("allowed_countries", "").split(",") if c.strip()
    ]
    for name in EDITABLE_NUMBERS:
        text = form.get(name, "").strip()
        if not text.isdigit():
            errors[name] = ["A whole number."]
        else:
            changes[name] = int(text)
    for name, message in OPTIONAL_NUMBERS.items():
        text = form.get(name, "").strip()
        if text and not text.isdigit():
            errors[name] = [message]
        else:
            changes[name] = int(text) if text else None
    return changes, errors


@bp.route("/admin/verticals/<id:vertical_id>", methods=["GET", "POST"])
@role_required("admin")
def vertical(vertical_id: int):
    """One vertical's prices and rules: they apply to auctions from now on."""
    errors: dict = {}
    saved = False
    if request.method == "POST":
        changes, errors = _changes_from_form(request.form)
        if not errors:
            try:
                update_vertical(vertical_id, changes)
                commit()
                saved = True
            except AppError as refused:
                rollback()
                errors = field_messages(refused.fields or {}) or {"floors": [refused.message]}
    return render_template(
        "admin_vertical.html",
        vertical=get_vertical(vertical_id),
        form=request.form if errors else {},
        errors=errors,
        saved=saved,
        statuses=STATUSES,
    ), (422 if errors else 200)


@bp.post("/admin/vertical-sellers/<id:seller_id>/<any(approve, decline):decision>")
@role_required(*STAFF)
def decide_vertical_seller(seller_id: int, decision: str):
    return acted(
        lambda: decide_seller(seller_id, decision), f"Seller {decision}d.", url_for("staff_portal.verticals")
    )


@bp.get("/admin/auctions")
@role_required(*STAFF)
def auctions():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    listed = paginate(auctions_for(current_user).order_by(Auction.id.desc()), page, PER_PAGE)
    return render_template("admin_auctions.html", auctions=listed["items"], page=listed)


@bp.get("/admin/auctions/<id:auction_id>")
@role_required(*STAFF)
def auction(auction_id: int):
    return render_template(
        "admin_auction.html", auction=view_of(current_user, auction_for(current_user, auction_id))
    )
