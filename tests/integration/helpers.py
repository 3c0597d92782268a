"""Helpers shared by the integration tests; call them inside an app context."""

from __future__ import annotations

from sqlalchemy import func, select

from billing.domain import AccountRef
from billing.models import Account, Transfer
from billing.payouts.models import Payout
from exchange import jobs
from exchange.actors import Actor
from exchange.extensions import db
from exchange.leads.intake import submit_lead
from exchange.leads.jobs import validate_lead_job
from exchange.leads.models import Lead, LeadEvent
from exchange.leads.schemas import LeadSubmitSchema


def webmaster_actor(webmaster) -> Actor:
    return Actor(kind="user", user_id=webmaster.id, label="integration test")


def submit(webmaster, offer, fields: dict) -> int:
    """Submit a lead through intake and commit it, leaving it ``received``
    (its validation job is discarded, as if no worker had picked it up)."""
    payload = LeadSubmitSchema().load({"offer_id": offer.id, "fields": fields})
    lead_id = submit_lead(webmaster.id, payload, webmaster_actor(webmaster)).lead.id
    db.session.commit()
    jobs.discard_pending()
    return lead_id


def submit_and_validate(webmaster, offer, fields: dict) -> Lead:
    """Submit a lead, then run its validation job."""
    lead_id = submit(webmaster, offer, fields)
    validate_lead_job(lead_id)
    return fresh_lead(lead_id)


def fresh_lead(lead_id: int) -> Lead:
    return db.session.scalar(select(Lead).where(Lead.id == lead_id).execution_options(populate_existing=True))


def account(ref: AccountRef) -> Account | None:
    return db.session.scalar(
        select(Account).where(Account.code == ref.code).execution_options(populate_existing=True)
    )


def available(ref: AccountRef) -> int:
    row = account(ref)
    return row.balance.available if row else 0


def posted(ref: AccountRef) -> int:
    row = account(ref)
    return row.balance.posted if row else 0


def lead_transfers(lead_id: int) -> dict[str, Transfer]:
    rows = db.session.scalars(
        select(Transfer).where(Transfer.lead_id == lead_id).execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def events(lead_id: int) -> list[LeadEvent]:
    return list(
        db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.id))
    )


def event_tuples(lead_id: int) -> list[tuple]:
    """(action, from, to, actor kind, actor label) of each of the lead's events, oldest first."""
    return [(e.action, e.from_status, e.to_status, e.actor_kind, e.actor_label) for e in events(lead_id)]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> dict:
    """Everything a sweep or a job could change, as plain values."""
    db.session.expire_all()
    leads = db.session.execute(
        select(
            Lead.id,
            Lead.status,
            Lead.review_deadline,
            Lead.hold_until,
            Lead.hold_released_at,
            Lead.updated_at,
        ).order_by(Lead.id)
    ).all()
    accounts = db.session.execute(
        select(
            Account.code,
            Account.debits_pending,
            Account.debits_posted,
            Account.credits_pending,
            Account.credits_posted,
        ).order_by(Account.code)
    ).all()
    return {
        "leads": [tuple(row) for row in leads],
        "accounts": [tuple(row) for row in accounts],
        "transfers": sorted(db.session.scalars(select(Transfer.id))),
        "events": count(LeadEvent),
        "payouts": [
            tuple(row) for row in db.session.execute(select(Payout.id, Payout.status).order_by(Payout.id))
        ],
    }
