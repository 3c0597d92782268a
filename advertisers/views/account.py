"""The advertiser's billing overview (balances, spend, where the statements and invoices
are) and its API keys: listed, created (the secret shown once) and revoked."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from advertisers.views.common import acted, bp
from advertisers.views.dashboard import spend_of
from billing.services import balances_of
from exchange.accounts.models import ApiKey
from exchange.accounts.services import create_api_key, revoke_api_key
from exchange.accounts.views import role_required
from exchange.db import commit
from exchange.extensions import db

KEY_NAME_LENGTH = 120


@bp.get("/billing")
@role_required("advertiser")
def billing():
    return render_template(
        "advertiser_billing.html", balances=balances_of(current_user.id), spend=spend_of(current_user.id)
    )


def _keys_page(status: int = 200, **shown):
    keys = db.session.scalars(
        select(ApiKey).where(ApiKey.user_id == current_user.id).order_by(ApiKey.id.desc())
    ).all()
    return render_template("advertiser_keys.html", keys=keys, **shown), status, {"Cache-Control": "no-store"}


@bp.get("/keys")
@role_required("advertiser")
def keys():
    return _keys_page()


@bp.post("/keys")
@role_required("advertiser")
def create_key():
    name = (request.form.get("name") or "").strip()
    if len(name) > KEY_NAME_LENGTH:
        return _keys_page(422, errors={"name": [f"At most {KEY_NAME_LENGTH} characters."]}, name=name)
    issued = create_api_key(current_user.id, name)
    commit()
    return _keys_page(issued=issued.key, secret=issued.secret)  # shown this once


@bp.post("/keys/<id:key_id>/revoke")
@role_required("advertiser")
def revoke_key(key_id: int):
    return acted(
        lambda: revoke_api_key(current_user.id, key_id),  # another user's key: not found
        f"Key {key_id} revoked: it no longer opens the API.",
        url_for(".keys"),
    )
