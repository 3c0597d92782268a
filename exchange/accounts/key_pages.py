"""A user's API keys as pages of its own portal: listed, created (the secret shown this
once, never stored) and revoked. The advertiser's and the webmaster's portals each add
them to their blueprint (``/advertiser/keys``, ``/webmaster/keys``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from exchange.accounts.models import ApiKey
from exchange.accounts.services import create_api_key, revoke_api_key
from exchange.accounts.views import role_required
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db

KEY_NAME_LENGTH = 120


def add_key_pages(bp: Blueprint, role: str) -> None:
    """``GET`` and ``POST`` ``keys``, ``POST keys/<id>/revoke`` on ``bp``, for ``role``."""

    @bp.get("/keys", endpoint="keys")
    @role_required(role)
    def keys():
        return _keys_page()

    @bp.post("/keys", endpoint="create_key")
    @role_required(role)
    def create_key():
        name = (request.form.get("name") or "").strip()
        if len(name) > KEY_NAME_LENGTH:
            return _keys_page(422, errors={"name": [f"At most {KEY_NAME_LENGTH} characters."]}, name=name)
        issued = create_api_key(current_user.id, name)
        commit()
        return _keys_page(issued=issued.key, secret=issued.secret)  # shown this once

    @bp.post("/keys/<id:key_id>/revoke", endpoint="revoke_key")
    @role_required(role)
    def revoke_key(key_id: int):
        try:
            revoke_api_key(current_user.id, key_id)  # another user's key: not found
            commit()
            flash(f"Key {key_id} revoked: it no longer opens the API.", "notice")
        except AppError as refused:
            rollback()
            flash(f"Not done: {refused.message}")
        return redirect(url_for(f"{bp.name}.keys"), code=303)


def _keys_page(status: int = 200, **shown):
    keys = db.session.scalars(
        select(ApiKey).where(ApiKey.user_id == current_user.id).order_by(ApiKey.id.desc())
    ).all()
    page = render_template("keys.html", keys=keys, portal=request.blueprint, **shown)
    return page, status, {"Cache-Control": "no-store"}
