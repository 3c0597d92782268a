"""The admins' money pages: manual credits to advertisers, and payouts (settled one by
one, or gathered in batches for the finance team with a CSV). The same services as
``POST /api/v1/admin/credits``, ``.../admin/payouts/<id>/settle`` and
``.../admin/payout-batches``."""

from __future__ import annotations

import re
import secrets

from flask import Response, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from billing.events import funds_arrived
from billing.models import Account, Transfer
from billing.payouts.batches import batch_csv, batch_view, create_batch, settle_batch
from billing.payouts.domain import MANUAL
from billing.payouts.models import Payout, PayoutBatch
from billing.payouts.services import REQUESTED, settle_by_hand
from billing.services import credit_advertiser
from exchange.accounts.models import User
from exchange.accounts.views import role_required
from exchange.admin.views.common import acted, bp, refused
from exchange.bounds import MAX_AMOUNT_MINOR, MAX_ID
from exchange.extensions import db
from exchange.money import format_minor, parse_major

REFERENCE_MAX = 80  # as the API's CreditSchema
NOTE_MAX = 500
LISTED = 200
OUTCOMES = ("paid", "failed")


@bp.get("/admin/credits")
@role_required("admin")
def credits():
    """The credit form, with a fresh reference (a form sent twice credits once), and the
    latest money received for advertisers: admin credits and card top-ups alike."""
    recent = db.session.execute(
        select(Transfer, User)
        .join(Account, Account.id == Transfer.credit_account_id)
        .join(User, User.id == Account.owner_id)
        .where(Transfer.id.like("topup:%"))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc())
        .limit(50)
    ).all()
    return render_template("admin_credits.html", recent=recent, reference=f"manual-{secrets.token_hex(8)}")


@bp.post("/admin/credits")
@role_required("admin")
def credit():
    back = url_for(".credits")
    advertiser = _advertiser(request.form.get("advertiser") or "")
    currency = (request.form.get("currency") or "").strip().upper()
    reference = (request.form.get("reference") or "").strip()
    if advertiser is None:
        return refused("no advertiser with that email or id.", back)
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return refused("the currency is a three-letter code such as USD.", back)
    try:
        amount_minor = parse_major(request.form.get("amount") or "", currency)
    except ValueError as error:
        return refused(f"write the amount like 120.00 ({error}).", back)
    if not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        return refused("the amount must be above zero and below ten billion.", back)
    if not reference or len(reference) > REFERENCE_MAX:
        return refused(f"the reference is 1 to {REFERENCE_MAX} characters.", back)
    amount = format_minor(amount_minor, currency)
    if db.session.get(Transfer, f"topup:{reference}") is not None:
        done = f"Reference {reference} was credited already: nothing changed."
    else:
        done = f"Credited {amount} to {advertiser.email} (reference {reference})."

    def credit_and_fund() -> None:
        credit_advertiser(advertiser.id, currency, amount_minor, reference)  # topup:<reference>, once
        funds_arrived(advertiser.id, currency)  # leads waiting for funds, after the commit

    return acted(credit_and_fund, done, back)


def _advertiser(typed: str) -> User | None:
    typed = typed.strip()
    if typed.isdigit() and typed.isascii():
        user = db.session.get(User, int(typed)) if int(typed) <= MAX_ID else None
    else:
        user = db.session.scalar(select(User).where(User.email == typed.lower()))
    return user if user is not None and user.role == "advertiser" else None


@bp.get("/admin/payouts")
@role_required("admin")
def payouts():
    requested = db.session.execute(
        select(Payout, User)
        .join(User, User.id == Payout.webmaster_id)
        .where(Payout.status == REQUESTED)
        .order_by(Payout.id)
        .limit(LISTED)
    ).all()
    batchable = db.session.scalars(
        select(Payout.currency)
        .where(Payout.status == REQUESTED, Payout.rail == MANUAL, Payout.batch_id.is_(None))
        .distinct()
        .order_by(Payout.currency)
    ).all()
    batch_ids = db.session.scalars(select(PayoutBatch.id).order_by(PayoutBatch.id.desc()).limit(50)).all()
    return render_template(
        "admin_payouts.html",
        requested=requested,
        batchable=batchable,
        batches=[batch_view(batch_id) for batch_id in batch_ids],
        manual=MANUAL,
    )


@bp.post("/admin/payouts/<id:payout_id>/settle")
@role_required("admin")
def settle(payout_id: int):
    outcome, note = request.form.get("outcome"), (request.form.get("note") or "").strip()[:NOTE_MAX]
    back = url_for(".payouts")
    if outcome not in OUTCOMES:
        return refused("choose paid or failed.", back)
    return acted(
        lambda: settle_by_hand(payout_id, paid=outcome == "paid", settled_by_id=current_user.id, note=note),
        lambda payout: f"Payout {payout.id}: {payout.status}.",
        back,
    )


@bp.post("/admin/payouts/batches")
@role_required("admin")
def new_batch():
    currency = (request.form.get("currency") or "").strip().upper()
    back = url_for(".payouts")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return refused("the currency is a three-letter code such as USD.", back)
    return acted(
        lambda: batch_view(create_batch(currency, current_user.id).id),
        lambda view: (
            f"Batch {view.id}: {len(view.payout_ids)} payout(s), "
            f"{format_minor(view.total_minor, view.currency)}."
        ),
        back,
    )


@bp.get("/admin/payouts/batches/<id:batch_id>.csv")
@role_required("admin")
def batch_file(batch_id: int):
    """The batch's CSV for the finance team, as ``GET /api/v1/admin/payout-batches/<id>.csv``."""
    response = Response(stream_with_context(batch_csv(batch_id)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="payout-batch-{batch_id}.csv"'
    return response


@bp.post("/admin/payouts/batches/<id:batch_id>/settle")
@role_required("admin")
def settle_whole_batch(batch_id: int):
    """Every payout of the batch still requested marked paid, or failed (their money is
    available again); a payout that already has the outcome is left alone."""
    outcome, note = request.form.get("outcome"), (request.form.get("note") or "").strip()[:NOTE_MAX]
    back = url_for(".payouts")
    if outcome not in OUTCOMES:
        return refused("choose paid or failed.", back)
    return acted(
        lambda: settle_batch(
            batch_id, paid=outcome == "paid", payout_ids=None, settled_by_id=current_user.id, note=note
        ),
        lambda result: (
            f"Batch {batch_id}: {len(result.settled)} payout(s) {outcome}"
            + (f", {len(result.unchanged)} were already." if result.unchanged else ".")
        ),
        back,
    )
