"""Reputation from the audit log of lead transitions and from disputes
(docs/moderation.md).

Every figure is a count of distinct leads (or of disputes) made by a GROUP BY query:
one query for the lead figures of any number of parties, one for their disputes, never a
query per lead. A lead's figures come from ``lead_events``: a lead ever approved is one
with an event to ``approved``, and so on. The arithmetic lives in ``exchange.moderation.reputation.domain``.

A period (``since`` inclusive, ``until`` exclusive, naive UTC) keeps the lead events made
in it and the disputes that ended in it (resolved or withdrawn).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, case, cast, distinct, func, select

from exchange.accounts.models import User
from exchange.disputes.domain import RESOLVED, WITHDRAWN
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.domain import APPROVED, REJECTED, RETURNED
from exchange.leads.models import Lead, LeadEvent
from exchange.moderation.reputation.domain import (
    NO_SUB1,
    AdvertiserFigures,
    DisputeTally,
    PartyHistory,
    WebmasterFigures,
    tally,
)

_to = LeadEvent.to_status
_action = LeadEvent.action
# Which events each count looks for; each counts the distinct leads with such an event.
LEAD_COUNTS: dict[str, ColumnElement[bool]] = {
    "decided": _to.in_((APPROVED, REJECTED)),
    "approved": _to == APPROVED,
    "rejected": _to == REJECTED,
    "rejected_by_validation": _action == "reject_invalid",
    "rejected_by_advertiser": _action == "reject",
    "rejected_as_fraud": _action == "reject_fraud",
    "returned": _to == RETURNED,
    # what left pending by the advertiser's review: its decisions, and silence or auto-approval
    "reviewed": _action.in_(("approve", "auto_approve", "reject")),
}
WEBMASTER_COUNTS = (
    "decided", "approved", "rejected", "rejected_by_validation", "rejected_by_advertiser",
    "rejected_as_fraud", "returned",
)  # fmt: skip
SUB1 = case((func.coalesce(Lead.sub1, "") == "", NO_SUB1), else_=Lead.sub1).label("sub1")


@dataclass(frozen=True)
class Period:
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self, column: Any) -> list[ColumnElement[bool]]:
        clauses = []
        if self.since is not None:
            clauses.append(column >= self.since)
        if self.until is not None:
            clauses.append(column < self.until)
        return clauses


ALL_TIME = Period()


def lead_counts(keys: Sequence[Any], where: Sequence[Any], period: Period) -> Select:
    """One row per group of ``keys``: every count of ``LEAD_COUNTS``."""
    counts = [
        func.count(distinct(case((condition, LeadEvent.lead_id)))).label(name)
        for name, condition in LEAD_COUNTS.items()
    ]
    return (
        select(*keys, *counts)
        .select_from(LeadEvent)
        .join(Lead, Lead.id == LeadEvent.lead_id)
        .where(_to.in_((APPROVED, REJECTED, RETURNED)), *where, *period.clauses(LeadEvent.created_at))
        .group_by(*keys)
    )


def dispute_groups(
    side: str, keys: Sequence[Any], where: Sequence[Any], period: Period
) -> dict[Hashable, DisputeTally]:
    """Each group's tally for ``side`` of the disputes that ended (resolved or withdrawn)."""
    ended_at = func.coalesce(Dispute.resolved_at, Dispute.updated_at)
    query = (
        select(*keys, Dispute.kind, Dispute.status, Dispute.outcome, func.count())
        .select_from(Dispute)
        .join(Lead, Lead.id == Dispute.lead_id)
        .where(Dispute.status.in_((RESOLVED, WITHDRAWN)), *where, *period.clauses(ended_at))
        .group_by(*keys, Dispute.kind, Dispute.status, Dispute.outcome)
    )
    groups: dict[Hashable, list] = {}
    for row in db.session.execute(query):
        key = tuple(row[: len(keys)])
        groups.setdefault(key[0] if len(keys) == 1 else key, []).append(tuple(row[len(keys) :]))
    return {key: tally(side, rows) for key, rows in groups.items()}


def webmaster_figures(row: Any, disputes: DisputeTally | None) -> WebmasterFigures:
    """Figures from a row of ``lead_counts`` (or of an outer join to it: missing counts are 0)."""
    counts = {name: getattr(row, name, 0) or 0 for name in WEBMASTER_COUNTS}
    return WebmasterFigures(**counts, disputes=disputes or DisputeTally())


def advertiser_figures(row: Any, disputes: DisputeTally | None) -> AdvertiserFigures:
    return AdvertiserFigures(
        reviewed=getattr(row, "reviewed", 0) or 0,
        rejected=getattr(row, "rejected_by_advertiser", 0) or 0,
        approved=getattr(row, "approved", 0) or 0,
        returned=getattr(row, "returned", 0) or 0,
        disputes=disputes or DisputeTally(),
    )


def _one_row(query: Select) -> Any:
    return db.session.execute(query).one_or_none()


def webmaster_reputation(
    webmaster_id: int, period: Period = ALL_TIME, *, advertiser_id: int | None = None
) -> WebmasterFigures:
    """A webmaster's totals (on one advertiser's leads only, if given)."""
    where = [Lead.webmaster_id == webmaster_id]
    if advertiser_id is not None:
        where.append(Lead.advertiser_id == advertiser_id)
    row = _one_row(lead_counts([Lead.webmaster_id], where, period))
    disputes = dispute_groups("webmaster", [Lead.webmaster_id], where, period)
    return webmaster_figures(row, disputes.get(webmaster_id))


def webmaster_sub_sources(webmaster_id: int, period: Period = ALL_TIME) -> list[tuple[str, WebmasterFigures]]:
    """A webmaster's figures per sub1 (``(none)`` for leads without one), by sub1."""
    where = [Lead.webmaster_id == webmaster_id]
    rows = db.session.execute(lead_counts([SUB1], where, period).order_by(SUB1)).all()
    disputes = dispute_groups("webmaster", [SUB1], where, period)
    labels = sorted({row.sub1 for row in rows} | set(disputes))
    by_label = {row.sub1: row for row in rows}
    return [(label, webmaster_figures(by_label.get(label), disputes.get(label))) for label in labels]


def advertiser_reputation(advertiser_id: int, period: Period = ALL_TIME) -> AdvertiserFigures:
    where = [Lead.advertiser_id == advertiser_id]
    row = _one_row(lead_counts([Lead.advertiser_id], where, period))
    disputes = dispute_groups("advertiser", [Lead.advertiser_id], where, period)
    return advertiser_figures(row, disputes.get(advertiser_id))


def party_history(
    webmaster_id: int, advertiser_id: int, *, since: datetime | None = None, until: datetime | None = None
) -> PartyHistory:
    """Both parties' figures for a dispute's evidence (see ``PartyHistory``). Ids that name
    no one (or the wrong role) get zero figures: the caller has checked them already."""
    period = Period(since, until)
    return PartyHistory(
        webmaster_id=webmaster_id,
        advertiser_id=advertiser_id,
        webmaster=webmaster_reputation(webmaster_id, period),
        advertiser=advertiser_reputation(advertiser_id, period),
        between=webmaster_reputation(webmaster_id, period, advertiser_id=advertiser_id),
    )


# Moderators' lists: every user of the role, with its figures, sorted in SQL.
SORTS: dict[str, dict[str, tuple[str, str | None]]] = {
    # sort name -> (numerator column, denominator column or None for a plain count)
    "webmaster": {
        "approval_rate": ("approved", "decided"),
        "return_rate": ("returned", "approved"),
        "decided": ("decided", None),
    },
    "advertiser": {
        "rejection_rate": ("rejected_by_advertiser", "reviewed"),
        "return_rate": ("returned", "approved"),
        "reviewed": ("reviewed", None),
    },
}


def reputation_page(
    role: str,
    period: Period,
    *,
    sort: str = "id",
    order: str = "asc",
    min_count: int = 0,
    page: int = 1,
    per_page: int = 50,
) -> dict:
    """Every user of ``role`` (``webmaster`` or ``advertiser``) with its figures, a page of
    them. ``sort`` is ``id`` or one of ``SORTS[role]``; users with no rate sort last either
    way. ``min_count`` leaves out those with fewer decided (reviewed) leads."""
    key = Lead.webmaster_id if role == "webmaster" else Lead.advertiser_id
    volume = "decided" if role == "webmaster" else "reviewed"
    counts = lead_counts([key.label("user_id")], [], period).subquery()
    query = (
        select(User, counts)
        .outerjoin(counts, counts.c.user_id == User.id)
        .where(User.role == role)
        .order_by(*_ordering(counts, role, sort, order), User.id.asc())
    )
    if min_count:
        query = query.where(func.coalesce(counts.c[volume], 0) >= min_count)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    ids = [row.User.id for row in rows]
    disputes = dispute_groups(role, [key], [key.in_(ids)], period) if ids else {}
    figures = webmaster_figures if role == "webmaster" else advertiser_figures
    items = [(row.User, figures(row, disputes.get(row.User.id))) for row in rows]
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def _ordering(counts: Any, role: str, sort: str, order: str) -> list[Any]:
    if sort == "id":
        return [User.id.desc() if order == "desc" else User.id.asc()]
    numerator, denominator = SORTS[role][sort]
    if denominator is None:
        value = func.coalesce(counts.c[numerator], 0)
    else:
        value = cast(counts.c[numerator], Float) / func.nullif(counts.c[denominator], 0)
    missing_last = case((value.is_(None), 1), else_=0)
    return [missing_last, value.desc() if order == "desc" else value.asc()]
