"""The advertiser's lead inbox: filters and pages, bulk approve / reject / return, and one
lead's page (fields, score and findings, events, disputes) with its decision buttons.

The decisions are the API's services (exchange/leads/decisions.py); a return is the API's
return dispute (exchange/disputes/services.open_dispute). A bulk action decides each lead
in its own transaction, as POST /api/v1/leads/bulk does: one lead refused undoes no other."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as ma
from sqlalchemy import select

from advertisers.views.common import acted, bp, refusal_text, web_actor
from billing.domain import LedgerError
from exchange import clock
from exchange.accounts.views import role_required
from exchange.bounds import LAST_DAY, MAX_ID, MAX_PAGE
from exchange.db import commit, rollback
from exchange.disputes.domain import RETURN, RETURN_REASONS
from exchange.disputes.models import Dispute
from exchange.disputes.services import open_dispute
from exchange.disputes.views import disputes_by_lead
from exchange.errors import AppError, field_messages
from exchange.extensions import db
from exchange.leads.api import filtered_leads
from exchange.leads.decisions import advertiser_lead, approve_lead, reject_lead
from exchange.leads.domain import OFFER_STATES as STATES
from exchange.leads.domain import PENDING
from exchange.leads.models import LeadEvent
from exchange.leads.windows import return_deadline, return_refusal
from exchange.offers.services import offers_visible_to
from exchange.pagination import paginate

PER_PAGE = 50
MAX_BULK = 500
ACTIONS = ("approve", "reject", "return")


class InboxQuerySchema(Schema):
    """The inbox's filters, as the page's form sends them (days, not instants)."""

    status = ma.String(validate=validate.OneOf(STATES), load_default=None)
    offer_id = ma.Integer(validate=validate.Range(min=1, max=MAX_ID), load_default=None)
    since = ma.Date(load_default=None, metadata={"description": "Received on or after this day (UTC)."})
    until = ma.Date(
        load_default=None,
        validate=validate.Range(max=LAST_DAY),
        metadata={"description": "Received on or before this day (UTC)."},
    )
    page = ma.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def _filters() -> tuple[dict, dict]:
    """The query string's filters (blanks ignored): (arguments, {}) or (defaults, field messages)."""
    given = {name: value for name, value in request.args.items() if value.strip()}
    schema = InboxQuerySchema()
    try:
        return schema.load(given, unknown=EXCLUDE), {}
    except ValidationError as error:
        return schema.load({}), field_messages(error.messages)


def _lead_query(args: dict):
    since, until = args["since"], args["until"]
    return filtered_leads(
        current_user,
        {
            "status": args["status"],
            "offer_id": args["offer_id"],
            "since": datetime.combine(since, time.min) if since else None,
            "until": datetime.combine(until + timedelta(days=1), time.min) if until else None,
        },
    )


@bp.get("/leads")
@role_required("advertiser")
def leads():
    args, errors = _filters()
    found = paginate(_lead_query(args), args["page"], PER_PAGE)
    shown = {name: request.args.get(name, "") for name in ("status", "offer_id", "since", "until")}
    query = urlencode({name: value for name, value in shown.items() if value})
    return render_template(
        "advertiser_leads.html",
        page=found,
        pages=max(1, -(-found["total"] // PER_PAGE)),
        shown=shown,
        query=query,
        errors=errors,
        states=STATES,
        offers=offers_visible_to(current_user),
        return_reasons=RETURN_REASONS,
        lead_disputes=disputes_by_lead(current_user, found["items"]),
    ), (422 if errors else 200)


def _back_to_inbox():
    """The inbox with the filters the bulk form carried (only known filter names)."""
    kept = [
        (name, value)
        for name, value in parse_qsl(request.form.get("query", ""))
        if name in InboxQuerySchema().fields
    ]
    return url_for(".leads") + (f"?{urlencode(kept)}" if kept else "")


@bp.post("/leads/decide")
@role_required("advertiser")
def decide_many():
    action = request.form.get("action")
    reason, statement = (
        (request.form.get("reason") or "").strip(),
        (request.form.get("statement") or "").strip(),
    )
    back = _back_to_inbox()
    ids = _lead_ids(request.form.getlist("lead_id"))
    problem = _bulk_problem(action, ids, reason, statement)
    if problem:
        flash(f"Not done: {problem}")
        return redirect(back, code=303)
    refusals = [
        f"lead {lead_id}: {refusal}"
        for lead_id in ids
        if (refusal := _decide_one(lead_id, action, reason, statement)) is not None
    ]
    done = len(ids) - len(refusals)
    flash(f"{action.capitalize()}: {done} of {len(ids)} done.", "notice")
    if refusals:
        flash("Not done: " + "; ".join(refusals))
    return redirect(back, code=303)


def _posted(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _lead_ids(values: list[str]) -> list[int]:
    ids: dict[int, None] = {}
    for value in values:
        if value.isdigit() and 0 < int(value) <= MAX_ID:
            ids.setdefault(int(value), None)
    return list(ids)


def _bulk_problem(action: str | None, ids: list[int], reason: str, statement: str) -> str | None:
    if action not in ACTIONS:
        return "choose approve, reject or return."
    if not ids:
        return "tick at least one lead."
    if len(ids) > MAX_BULK:
        return f"at most {MAX_BULK} leads at once."
    if action == "return":
        return _return_problem(reason, statement)
    return None


def _return_problem(reason: str, statement: str) -> str | None:
    if reason not in RETURN_REASONS:
        return "choose the reason for the return from the list."
    if not statement:
        return "write a statement for the return: what you found."
    return None


def _decide_one(lead_id: int, action: str, reason: str, statement: str) -> str | None:
    """One lead in its own transaction: None when done, else why not."""
    try:
        lead_id = advertiser_lead(current_user.id, lead_id).id
        if action == "approve":
            approve_lead(lead_id, web_actor())
        elif action == "reject":
            reject_lead(lead_id, web_actor(), note=reason[:500] or None)
        else:
            open_dispute(current_user, web_actor(), lead_id, reason, statement[:4000])
        commit()
    except AppError as refused:
        rollback()
        return refusal_text(refused)
    except LedgerError as refused:
        rollback()
        return str(refused)
    return None


@bp.get("/leads/<id:lead_id>")
@role_required("advertiser")
def lead(lead_id: int):
    found = advertiser_lead(current_user.id, lead_id)  # another advertiser's: 404
    events = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == found.id).order_by(LeadEvent.id)
    ).all()
    disputes = db.session.scalars(
        select(Dispute)
        .where(Dispute.lead_id == found.id, Dispute.advertiser_id == current_user.id)
        .order_by(Dispute.id)
    ).all()
    returnable = return_refusal(found, clock.now()) is None and not any(d.kind == RETURN for d in disputes)
    return render_template(
        "advertiser_lead.html",
        lead=found,
        events=events,
        disputes=disputes,
        decidable=found.status == PENDING,
        returnable=returnable,
        return_until=return_deadline(found) if returnable else None,
        return_reasons=RETURN_REASONS,
    )


@bp.post("/leads/<id:lead_id>/<any(approve, reject):action>")
@role_required("advertiser")
def decide_one(lead_id: int, action: str):
    note = (request.form.get("note") or "").strip()[:500] or None
    service = approve_lead if action == "approve" else reject_lead
    return acted(
        lambda: service(advertiser_lead(current_user.id, lead_id).id, web_actor(), note=note),
        f"Lead {lead_id}: {'approved' if action == 'approve' else 'rejected'}.",
        url_for(".lead", lead_id=lead_id),
    )


@bp.post("/leads/<id:lead_id>/return")
@role_required("advertiser")
def ask_return(lead_id: int):
    reason, statement = (
        (request.form.get("reason") or "").strip(),
        (request.form.get("statement") or "").strip(),
    )
    back = url_for(".lead", lead_id=lead_id)
    problem = _return_problem(reason, statement)
    if problem:
        flash(f"Not done: {problem}")
        return redirect(back, code=303)
    return acted(
        lambda: open_dispute(current_user, web_actor(), lead_id, reason, statement[:4000]),
        f"Lead {lead_id}: return asked; the webmaster answers, or a moderator decides.",
        back,
    )
