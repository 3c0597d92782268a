"""Retention: the sweep erases the personal data of decided leads older than their offer's
(or vertical's) ``retention_days``, and forgets the contact hashes of erased leads once no
duplicate check can look back to them (docs/privacy.md).

A lead is decided when nothing more will be decided about it: approved, rejected or
returned (an offer's); sold, unsold or rejected (a vertical's). A window still open on it
(an appeal, a return, an open dispute, a sale in review or in hold) keeps it until it closes:
the moderators may need its data. Money is never touched."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update

from exchange import clock
from exchange.actors import Actor
from exchange.buying.models import Sale
from exchange.db import in_own_transaction
from exchange.disputes.domain import OPEN
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer
from exchange.privacy.domain import DECIDED_EXCHANGE_STATES, DECIDED_OFFER_STATES
from exchange.privacy.erase import erase_leads
from exchange.privacy.services import record_erasure
from exchange.verticals.models import Vertical

BATCH = 200
MAX_BATCHES = 25  # per run: the next run goes on


def sweep_retention() -> dict[str, int]:
    now = clock.now()
    erased = 0
    for _ in range(MAX_BATCHES):
        due = due_for_erasure(now, BATCH)
        done = in_own_transaction(erase_batch, due) if due else 0
        erased += done
        if len(due) < BATCH or not done:
            break
    return {"retention_erased": erased, "hashes_forgotten": in_own_transaction(forget_old_hashes, now)}


def erase_batch(lead_ids: list[int]) -> int:
    """Erase these leads and record it as the retention sweep's erasure; how many leads."""
    counts = erase_leads(lead_ids)
    if counts:
        record_erasure(Actor.system("retention"), "retention", counts)
    return counts.get("leads", 0)


def due_for_erasure(now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` leads whose retention period is over, oldest first."""
    due: list[int] = []
    no_open_dispute = ~exists().where(Dispute.lead_id == Lead.id, Dispute.status.in_(OPEN))
    windows_closed = (
        or_(Lead.appeal_until.is_(None), Lead.appeal_until < now),
        or_(Lead.return_until.is_(None), Lead.return_until < now),
    )
    for offer_id, days in db.session.execute(
        select(Offer.id, Offer.retention_days).where(Offer.retention_days > 0)
    ):
        due += _oldest(
            Lead.offer_id == offer_id,
            Lead.status.in_(DECIDED_OFFER_STATES),
            *windows_closed,
            no_open_dispute,
            before=now - timedelta(days=days),
            limit=limit - len(due),
        )
    sale_open = exists().where(
        Sale.lead_id == Lead.id,
        or_(Sale.status == "pending", (Sale.status == "approved") & Sale.hold_released_at.is_(None)),
    )
    for vertical_id, days in db.session.execute(
        select(Vertical.id, Vertical.retention_days).where(Vertical.retention_days > 0)
    ):
        due += _oldest(
            Lead.vertical_id == vertical_id,
            Lead.status.in_(DECIDED_EXCHANGE_STATES),
            ~sale_open,
            no_open_dispute,
            before=now - timedelta(days=days),
            limit=limit - len(due),
        )
    return due


def _oldest(*conditions, before: datetime, limit: int) -> list[int]:
    if limit <= 0:
        return []
    query = select(Lead.id).where(Lead.erased_at.is_(None), Lead.created_at < before, *conditions)
    return list(db.session.scalars(query.order_by(Lead.created_at, Lead.id).limit(limit)))


def forget_old_hashes(now: datetime) -> int:
    """Erased leads past every duplicate window that could look back to them lose their
    hashes: an offer's lead after the longest window among its advertiser's offers (checks
    may span them), a vertical's after the vertical's window. How many leads."""
    windows = dict(
        db.session.execute(
            select(Offer.advertiser_id, func.max(Offer.duplicate_window_seconds)).group_by(
                Offer.advertiser_id
            )
        ).all()
    )
    vertical_windows = dict(db.session.execute(select(Vertical.id, Vertical.duplicate_window_seconds)).all())
    remembered = db.session.execute(
        select(Lead.id, Lead.created_at, Lead.advertiser_id, Lead.vertical_id).where(
            Lead.erased_at.is_not(None), or_(Lead.email_hash.is_not(None), Lead.phone_hash.is_not(None))
        )
    )
    forgotten = [
        lead_id
        for lead_id, created_at, advertiser_id, vertical_id in remembered
        if created_at
        < now
        - timedelta(
            seconds=vertical_windows.get(vertical_id, 0) if vertical_id else windows.get(advertiser_id, 0)
        )
    ]
    if forgotten:
        db.session.execute(
            update(Lead)
            .where(Lead.id.in_(forgotten))
            .values(email_hash=None, phone_hash=None)
            .execution_options(synchronize_session=False)
        )
    return len(forgotten)
