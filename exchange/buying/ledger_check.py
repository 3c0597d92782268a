"""The sales' invariant over the ledger, run by ``flask billing check``: each sale carries
the money legs its status says, once (transfers ``sale:N:...``)."""

from __future__ import annotations

from sqlalchemy import String, case, cast, func, literal, select

from billing.models import Transfer
from exchange.buying.models import Sale
from exchange.extensions import db

NAME = "sales_charged_as_their_status_says"


def _count(pattern: str):
    return func.sum(case((Transfer.id.like(pattern), 1), else_=0))


def sales_charged_as_their_status_says() -> list[str]:
    """A pending sale holds one open reservation; an approved one one charge (and one hold
    release once released); a rejected or voided one its reservation voided, no charge; a
    returned one its charge and one reversal of it, its hold never released."""
    rows = db.session.execute(
        select(
            Sale.id,
            Sale.status,
            Sale.hold_released_at.is_not(None),
            _count("sale:%:reserve:payout"),
            _count("sale:%:void:payout"),
            _count("sale:%:approve:payout"),
            _count("sale:%:hold-release"),
            _count("sale:%:return:payout"),
        )
        .outerjoin(Transfer, Transfer.id.like(literal("sale:").concat(cast(Sale.id, String)).concat(":%")))
        .group_by(Sale.id, Sale.status, Sale.hold_released_at)
    ).all()
    problems = []
    for sale_id, status, released, *counts in rows:
        reserved, voided, charged, release, reversed_ = (n or 0 for n in counts)
        expected = {
            "pending": (1, 0, 0, 0, 0),
            "approved": (1, 0, 1, int(released), 0),
            "rejected": (1, 1, 0, 0, 0),
            "voided": (1, 1, 0, 0, 0),
            "returned": (1, 0, 1, 0, 1),
        }[status]
        if (reserved, voided, charged, release, reversed_) != expected:
            problems.append(
                f"sale {sale_id} is {status} with {reserved} reservation(s), {voided} void(s), "
                f"{charged} charge(s), {release} hold release(s), {reversed_} reversal(s)"
            )
    return problems
