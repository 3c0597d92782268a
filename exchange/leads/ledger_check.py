"""The leads' invariant over the ledger, run by ``flask billing check`` (DESIGN §5: every
approved lead has exactly one charge). Billing knows a lead only as the reference on its
transfers (``lead_id``, ``lead:N:...`` ids); what each status must carry is known here, and
``exchange/__init__.py`` adds it to billing's checks (``billing.check.add_invariant``)."""

from __future__ import annotations

from sqlalchemy import case, func, select

from billing.models import Transfer
from exchange.extensions import db
from exchange.leads.domain import (
    APPROVED,
    AWAITING_FUNDS,
    PENDING,
    RECEIVED,
    REJECTED,
    RETURNED,
    REVIEW,
)
from exchange.leads.models import Lead

NAME = "leads_charged_as_their_status_says"


def _count(pattern: str):
    return func.sum(case((Transfer.id.like(pattern), 1), else_=0))


def leads_charged_as_their_status_says() -> list[str]:
    """Each lead carries the money legs its status says, once: a pending lead
    an open reservation; an approved lead one charge, and one hold release
    once its hold was released; a returned lead one charge and one reversal,
    and no release; a rejected lead no charge and every reservation voided.
    A lead reinstated by an appeal may be reserved a second time (``lead:N:reinstated:...``),
    its first reservation voided; any other lead is reserved at most once."""
    rows = db.session.execute(
        select(
            Lead.id,
            Lead.status,
            Lead.hold_released_at.is_not(None),
            Lead.reinstated_at.is_not(None),
            _count("lead:%:reserve:payout"),
            _count("lead:%:void:payout"),
            _count("lead:%:approve:payout"),
            _count("lead:%:hold-release"),
            _count("lead:%:return:payout"),
        )
        .outerjoin(Transfer, Transfer.lead_id == Lead.id)
        .where(Lead.offer_id.is_not(None))  # an exchange lead's money is on its sales
        .group_by(Lead.id, Lead.status, Lead.hold_released_at, Lead.reinstated_at)
    ).all()
    problems = []
    for lead_id, status, released, reinstated, *counts in rows:
        reserved, voided, charged, release, reversal = (n or 0 for n in counts)
        live = reserved - voided  # reservations neither voided nor (yet) refused
        expected = {
            RECEIVED: (0, 0, 0, 0),
            REVIEW: (0, 0, 0, 0),
            AWAITING_FUNDS: (0, 0, 0, 0),
            PENDING: (1, 0, 0, 0),
            APPROVED: (1, 1, int(released), 0),
            RETURNED: (1, 1, 0, 1),
            REJECTED: (0, 0, 0, 0),
        }[status]
        if (live, charged, release, reversal) != expected or reserved > 1 + int(reinstated) or voided > 1:
            problems.append(
                f"lead {lead_id} is {status} with {reserved} reservation(s), {voided} void(s), "
                f"{charged} charge(s), {release} hold release(s), {reversal} return(s)"
            )
    return problems
