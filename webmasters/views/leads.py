"""The webmaster's leads: statuses and reason codes with their meaning, filters, pages,
and an appeal on each lead its advertiser rejected while the appeal window is open."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from exchange import clock
from exchange.accounts.views import role_required
from exchange.bounds import MAX_PAGE
from exchange.disputes.domain import APPEAL, APPEAL_REASONS
from exchange.disputes.models import Dispute
from exchange.disputes.services import open_dispute
from exchange.disputes.views import disputes_by_lead
from exchange.extensions import db
from exchange.leads.domain import REJECTED, STATES
from exchange.leads.models import Lead
from exchange.leads.reasons import REASONS
from exchange.leads.windows import appeal_deadline
from exchange.offers.services import participations_of
from exchange.pagination import paginate
from webmasters.views.common import acted, bp, webmaster_actor

PER_PAGE = 50
MAX_STATEMENT = 4000


def _int_arg(name: str, default: int | None, highest: int) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 1 <= int(value) <= highest else default


@bp.get("/leads")
@role_required("webmaster")
def leads():
    status = request.args.get("status", "") if request.args.get("status") in STATES else ""
    offer_id = _int_arg("offer", None, 2**62)
    query = select(Lead).where(Lead.webmaster_id == current_user.id).order_by(Lead.id.desc())
    if status:
        query = query.where(Lead.status == status)
    if offer_id:
        query = query.where(Lead.offer_id == offer_id)
    page = paginate(query, _int_arg("page", 1, MAX_PAGE), PER_PAGE)
    codes = sorted({code for lead in page["items"] for code in lead.reason_codes or []})
    return render_template(
        "webmaster_leads.html",
        page=page,
        status=status,
        offer_id=offer_id,
        statuses=STATES,
        offers=[(p.offer_id, p.offer.name) for p in participations_of(current_user.id)],
        appealable=_appealable(page["items"]),
        reasons=REASONS,
        codes=codes,
        appeal_reasons=APPEAL_REASONS,
        lead_disputes=disputes_by_lead(current_user, page["items"]),
        args={key: value for key, value in (("status", status), ("offer", offer_id)) if value},
    )


def _appealable(leads: list[Lead]) -> dict[int, object]:
    """The leads on the page that may be appealed now, with the end of their window."""
    candidates = [
        lead
        for lead in leads
        if lead.status == REJECTED
        and "advertiser_rejected" in (lead.reason_codes or [])
        and lead.rate_minor
        and lead.rejected_at is not None
    ]
    if not candidates:
        return {}
    appealed = set(
        db.session.scalars(
            select(Dispute.lead_id).where(
                Dispute.kind == APPEAL, Dispute.lead_id.in_([lead.id for lead in candidates])
            )
        )
    )
    now = clock.now()
    windows = {lead.id: appeal_deadline(lead) for lead in candidates if lead.id not in appealed}
    return {lead_id: until for lead_id, until in windows.items() if now < until}


@bp.post("/leads/<id:lead_id>/appeal")
@role_required("webmaster")
def appeal(lead_id: int):
    reason = request.form.get("reason", "")
    statement = (request.form.get("statement") or "").strip()
    back = url_for(".leads", **{k: v for k, v in request.args.items() if k in ("status", "offer", "page")})
    if reason not in APPEAL_REASONS or not statement:
        flash(f"Not done: lead {lead_id}: choose a reason from the list and write your statement.")
        return redirect(back, code=303)

    def appealed() -> str:
        dispute = open_dispute(current_user, webmaster_actor(), lead_id, reason, statement[:MAX_STATEMENT])
        due = f"{dispute.answer_due_at:%Y-%m-%d %H:%M} UTC"
        return f"Lead {lead_id}: appeal {dispute.id} opened; the advertiser answers by {due}."

    return acted(appealed, back)
