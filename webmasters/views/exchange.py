"""The seller's exchange pages: the verticals (join one, its floors and slots) and the leads
submitted to them with their auction's outcome and what they earn (never the buyer or
its price)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from exchange.accounts.views import role_required
from exchange.auctions.models import Auction
from exchange.buying.models import Sale
from exchange.buying.register import LIVE
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.pagination import paginate
from exchange.verticals.schemas import vertical_links
from exchange.verticals.services import all_verticals, join_vertical, standings_of
from webmasters.views.common import acted, bp

PER_PAGE = 50


@bp.get("/verticals")
@role_required("webmaster")
def verticals():
    standings = standings_of(current_user.id)
    rows = [(vertical, standings.get(vertical.id)) for vertical in all_verticals(active_only=True)]
    links = [
        (vertical, vertical_links(seller.token))
        for vertical, seller in rows
        if seller is not None and seller.status == "active"
    ]
    return render_template("webmaster_verticals.html", rows=rows, links=links)


@bp.post("/verticals/<id:vertical_id>/join")
@role_required("webmaster")
def join_vertical_page(vertical_id: int):
    def joined() -> str:
        seller = join_vertical(current_user, vertical_id)
        return "You sell on it now." if seller.status == "active" else "Asked: staff will approve you."

    return acted(joined, url_for("webmaster_portal.verticals"))


@bp.get("/submissions")
@role_required("webmaster")
def submissions():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = select(Lead).where(Lead.webmaster_id == current_user.id, Lead.vertical_id.is_not(None))
    listed = paginate(query.order_by(Lead.id.desc()), page, PER_PAGE)
    ids = [lead.id for lead in listed["items"]]
    earned = dict(
        db.session.execute(
            select(Sale.lead_id, func.sum(Sale.payout_minor))
            .where(Sale.lead_id.in_(ids), Sale.status.in_(LIVE))
            .group_by(Sale.lead_id)
        ).all()
    )
    sold = dict(
        db.session.execute(
            select(Sale.lead_id, func.count())
            .where(Sale.lead_id.in_(ids), Sale.status.in_(LIVE))
            .group_by(Sale.lead_id)
        ).all()
    )
    auctions = {a.lead_id: a for a in db.session.scalars(select(Auction).where(Auction.lead_id.in_(ids)))}
    names = {vertical.id: vertical.name for vertical in all_verticals()}
    rows = [
        (
            lead,
            names.get(lead.vertical_id),
            auctions.get(lead.id),
            sold.get(lead.id, 0),
            earned.get(lead.id, 0),
        )
        for lead in listed["items"]
    ]
    return render_template("webmaster_submissions.html", rows=rows, page=listed)
