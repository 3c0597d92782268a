"""Finding, locking and showing disputes: who may see one, its thread."""

from __future__ import annotations

from sqlalchemy import select

from exchange.accounts.models import User
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.leads.validation import lock_lead


def lock_dispute(dispute_id: int, user: User | None = None) -> Dispute:
    """Lock the dispute's lead, then the dispute; a party sees only its own (else 404)."""
    found = db.session.get(Dispute, dispute_id)  # its parties and lead never change
    if found is None or (user is not None and not visible_to(found, user)):
        raise NotFound("No such dispute.")
    lock_lead(found.lead_id)
    return db.session.scalar(
        select(Dispute)
        .where(Dispute.id == dispute_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def visible_to(dispute: Dispute, user: User) -> bool:
    if user.role in ("moderator", "admin"):
        return True
    return user.role in ("advertiser", "webmaster") and party_id(dispute, user.role) == user.id


def add_message(dispute: Dispute, author_id: int | None, role: str, body: str) -> DisputeMessage:
    message = DisputeMessage(dispute_id=dispute.id, author_id=author_id, author_role=role, body=body[:4000])
    db.session.add(message)
    db.session.flush()
    return message


def party_id(row: Lead | Dispute, role: str) -> int:
    return row.webmaster_id if role == "webmaster" else row.advertiser_id
