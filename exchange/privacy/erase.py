"""Erasing the personal data of some leads wherever it is kept: the leads themselves, their
consents and clicks, the logs of their deliveries and postbacks, their events, disputes
and moderators' notes, their sales, and the files of exports and imports still stored.

Submitted values are overwritten with "[erased]"; free text elsewhere keeps its words but
loses every value of those leads (exchange/privacy/domain.py ``redact``). Money, amounts,
prices and statuses are never touched, so the ledger stays exactly as it was. Flushes; the
caller commits once, so an erasure is written whole or not at all. Running it again
changes nothing (the values it looks for are gone)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import undefer

from exchange import clock
from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import Sale
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.extensions import db
from exchange.leads.models import Consent, Lead, LeadEvent
from exchange.longjobs.models import LongTask
from exchange.moderation.audit.models import ModerationAction
from exchange.notifications.models import Notification
from exchange.privacy.domain import (
    ERASED,
    Counts,
    erased_fields,
    redact,
    redact_bytes,
    redact_json,
    searched_values,
)
from exchange.privacy.hashing import hashed
from exchange.tracking.models import Click


def erase_leads(lead_ids: Iterable[int]) -> Counts:
    """Erase these leads' personal data everywhere; the rows changed, per table."""
    ids = sorted(set(lead_ids))
    counts = Counts()
    if not ids:
        return counts
    leads = list(
        db.session.scalars(
            select(Lead)
            .where(Lead.id.in_(ids))
            .order_by(Lead.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    values: set[str] = set()
    for lead in leads:
        values.update(searched_values(lead.fields or {}, lead.email_key, lead.phone_key))
    searched = sorted(values, key=len, reverse=True)
    counts.add("leads", sum(_erase_lead(lead, searched) for lead in leads))
    counts.add("lead_consents", _erase_consents(ids, searched))
    counts.add("clicks", _erase_clicks([lead.click_token for lead in leads if lead.click_token], searched))
    if not searched:
        db.session.flush()
        return counts  # nothing left to look for in the logs: erased before
    counts.add("lead_events", _redact_rows(LeadEvent, LeadEvent.lead_id.in_(ids), ("reason",), searched))
    counts.add("lead_delivery_attempts", _erase_delivery_attempts(ids, searched))
    counts.add("postback_attempts", _erase_postback_attempts(ids, searched))
    dispute_ids = list(db.session.scalars(select(Dispute.id).where(Dispute.lead_id.in_(ids))))
    counts.add(
        "disputes",
        _redact_rows(Dispute, Dispute.id.in_(dispute_ids), ("statement", "decision_reason"), searched),
    )
    counts.add(
        "dispute_messages",
        _redact_rows(DisputeMessage, DisputeMessage.dispute_id.in_(dispute_ids), ("body",), searched),
    )
    about_them = or_(
        (ModerationAction.subject_type == "lead") & ModerationAction.subject_id.in_(ids),
        (ModerationAction.subject_type == "dispute") & ModerationAction.subject_id.in_(dispute_ids),
    )
    counts.add("moderation_actions", _redact_rows(ModerationAction, about_them, ("reason",), searched))
    counts.add(
        "sales", _redact_rows(Sale, Sale.lead_id.in_(ids), ("post_error", "decision_reason"), searched)
    )
    auctions = select(Auction.id).where(Auction.lead_id.in_(ids))
    counts.add(
        "auction_bids",
        _redact_rows(AuctionBid, AuctionBid.auction_id.in_(auctions), ("ping_error",), searched),
    )
    parties = {lead.webmaster_id for lead in leads} | {
        lead.advertiser_id for lead in leads if lead.advertiser_id
    }
    counts.add("notifications", _erase_notifications(ids, parties, searched))
    counts.add("long_tasks", _erase_stored_files(searched))
    db.session.flush()
    return counts


def _erase_lead(lead: Lead, searched: list[str]) -> int:
    if lead.erased_at is not None and not lead.email_key and not lead.phone_key and not lead.ip:
        return 0
    # A lead from before its hashes were kept gets them now: its duplicates are still caught.
    lead.email_hash = lead.email_hash or hashed("email", lead.email_key)
    lead.phone_hash = lead.phone_hash or hashed("phone", lead.phone_key)
    lead.fields = erased_fields(lead.fields or {})
    lead.email_key = lead.phone_key = lead.ip = lead.user_agent = None
    lead.decision_note = redact(lead.decision_note, searched)
    lead.findings = redact_json(lead.findings, searched)
    lead.erased_at = clock.now()
    return 1


def _erase_consents(lead_ids: list[int], searched: list[str]) -> int:
    changed = 0
    for consent in db.session.scalars(select(Consent).where(Consent.lead_id.in_(lead_ids))):
        if consent.ip is None and consent.page_url == ERASED:
            continue
        consent.ip, consent.page_url = None, ERASED  # the page's address may carry the form's values
        consent.text = redact(consent.text, searched)
        changed += 1
    return changed


def _erase_clicks(click_ids: list[str], searched: list[str]) -> int:
    changed = 0
    for click in db.session.scalars(select(Click).where(Click.click_id.in_(click_ids))) if click_ids else ():
        params = redact_json(click.params, searched)
        if click.ip is None and click.user_agent is None and params == click.params:
            continue
        click.ip = click.user_agent = None
        click.params = params
        changed += 1
    return changed


def _erase_delivery_attempts(lead_ids: list[int], searched: list[str]) -> int:
    """The advertiser's answers may echo the lead in any form: their excerpts go whole."""
    deliveries = select(LeadDelivery.id).where(LeadDelivery.lead_id.in_(lead_ids))
    changed = 0
    for attempt in db.session.scalars(
        select(LeadDeliveryAttempt).where(LeadDeliveryAttempt.delivery_id.in_(deliveries))
    ):
        excerpt = (
            ERASED
            if attempt.response_excerpt and attempt.response_excerpt != ERASED
            else attempt.response_excerpt
        )
        error = redact(attempt.error, searched)
        if (excerpt, error) != (attempt.response_excerpt, attempt.error):
            attempt.response_excerpt, attempt.error = excerpt, error
            changed += 1
    return changed


def _erase_postback_attempts(lead_ids: list[int], searched: list[str]) -> int:
    deliveries = select(PostbackDelivery.id).where(PostbackDelivery.lead_id.in_(lead_ids))
    where = PostbackAttempt.delivery_id.in_(deliveries)
    return _redact_rows(PostbackAttempt, where, ("response_excerpt", "error"), searched)


def _erase_notifications(lead_ids: list[int], parties: set[int], searched: list[str]) -> int:
    """Notices about these leads (their ``data`` names the lead) lose the leads' values."""
    changed = 0
    for notice in db.session.scalars(select(Notification).where(Notification.user_id.in_(parties))):
        if (notice.data or {}).get("lead_id") not in lead_ids:
            continue
        message, data = redact(notice.message, searched), redact_json(notice.data, searched)
        if (message, data) != (notice.message, notice.data):
            notice.message, notice.data = message, data
            changed += 1
    return changed


def _erase_stored_files(searched: list[str]) -> int:
    """Exports and imports whose files are still kept (until TASK_RESULT_DAYS) lose the values."""
    changed = 0
    kept = (
        select(LongTask)
        .where(LongTask.expired_at.is_(None), or_(LongTask.result.is_not(None), LongTask.source.is_not(None)))
        .options(undefer(LongTask.result), undefer(LongTask.source))
    )
    for task in db.session.scalars(kept):
        result, source = redact_bytes(task.result, searched), redact_bytes(task.source, searched)
        errors, message = redact_json(task.errors, searched), redact(task.message, searched)
        if (result, source, errors, message) == (task.result, task.source, task.errors, task.message):
            continue
        if result != task.result:
            task.result_bytes = len(result)
        task.result, task.source, task.errors, task.message = result, source, errors, message
        changed += 1
    return changed


def _redact_rows(model: type, where: Any, columns: tuple[str, ...], searched: list[str]) -> int:
    changed = 0
    for row in db.session.scalars(select(model).where(where)):
        before = [getattr(row, column) for column in columns]
        after = [redact(value, searched) for value in before]
        if after != before:
            for column, value in zip(columns, after, strict=True):
                if value != getattr(row, column):
                    setattr(row, column, value)
            changed += 1
    return changed
