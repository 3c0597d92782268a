"""The admins' privacy page (``/admin/privacy``): erase a consumer's data by email or phone,
download what we hold about one, and the record of past erasures.

Like the other staff pages it only translates: it calls the same services as the API and
the CLI, commits once, and answers a refusal with the service's message (POST, then a 303
redirect, so reloading never erases twice)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from exchange.accounts.views import role_required
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.jobs import summary
from exchange.privacy.export import consumer_data
from exchange.privacy.schemas import ConsumerDataSchema
from exchange.privacy.services import erase_consumer, erasures_query, subject_of

bp = Blueprint("privacy_pages", __name__, url_prefix="/admin/privacy")
LISTED = 200


@bp.get("/")
@role_required("admin")
def privacy():
    erasures = db.session.scalars(erasures_query().limit(LISTED)).all()
    return render_template("admin_privacy.html", erasures=erasures, listed=LISTED)


@bp.post("/erasures")
@role_required("admin")
def erase():
    actor = Actor(kind="user", user_id=current_user.id, label=current_user.email)
    try:
        erasure = erase_consumer(actor, _subject())
        commit()
    except AppError as refused:
        rollback()
        flash(f"Not done: {refused.message}")
    else:
        counts = summary(erasure.counts) or "nothing was left to erase"
        flash(f"Erasure {erasure.id}: {erasure.rows_erased} row(s) erased ({counts}).", "notice")
    return redirect(url_for(".privacy"), code=303)


@bp.post("/export")
@role_required("admin")
def export():
    try:
        data = ConsumerDataSchema().dump(consumer_data(_subject()))
    except AppError as refused:
        flash(f"Not done: {refused.message}")
        return redirect(url_for(".privacy"), code=303)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={
            "Content-Disposition": "attachment; filename=consumer-data.json",
            "Cache-Control": "no-store",
        },
    )


def _subject():
    form = request.form
    kind, contact = form.get("kind") or "", (form.get("contact") or "").strip()[:254]
    if kind not in ("email", "phone"):
        return subject_of()  # refused: neither
    country = (form.get("country") or "").strip() or None
    return subject_of(**{kind: contact}, country=country)
