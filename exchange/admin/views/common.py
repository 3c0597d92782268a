"""The admins' blueprint (``staff_portal``), the way its pages act, and its home, ledger
check and failed-jobs pages. Users are in ``exchange.admin.views.users``; credits and payouts in
``exchange.admin.views.money``; ``exchange.admin.views`` puts them together.

Pages only translate: they call the same services as the API and the CLI, commit once,
and answer a refused action with the service's message (POST, then a 303 redirect, so
reloading never repeats an action)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import BigInteger, cast, func, select

from billing import check
from billing.domain import LedgerError
from billing.payouts.models import Payout
from exchange.accounts.models import User
from exchange.accounts.views import role_required
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.errors import AppError
from exchange.extensions import db
from exchange.jobs import QUEUES
from exchange.reports.views import report_csv, report_page

bp = Blueprint("staff_portal", __name__)

# Invariants over the accounts table alone: cheap enough for the home page. The full
# check, over every transfer and lead, runs on its own page (/admin/ledger).
ACCOUNT_CHECKS = ("balanced_per_currency", "no_negative_balances", "debts_never_overpaid")


def admin_actor() -> Actor:
    return Actor(kind="user", user_id=current_user.id, label=current_user.email)


def acted(action: Callable[[], object], done: str | Callable[[object], str], back: str):
    """Run one action and commit it, then say what was done (``done`` may be built from
    the action's result); on a refusal, roll back and say why. Then go ``back``."""
    try:
        result = action()
        commit()
    except AppError as refused:
        rollback()
        problems = "; ".join(message for messages in refused.fields.values() for message in messages)
        flash(f"Not done: {refused.message} {problems}".strip())
    except LedgerError as refused:
        rollback()
        flash(f"Not done: {refused}")
    else:
        flash(done(result) if callable(done) else done, "notice")
    return redirect(back, code=303)


def refused(message: str, back: str):
    """A form that cannot be sent to a service: say why, change nothing."""
    flash(f"Not done: {message}")
    return redirect(back, code=303)


@bp.get("/admin/")
@role_required("admin")
def admin():
    users_by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    requested = db.session.execute(
        select(Payout.currency, func.count(), cast(func.sum(Payout.amount_minor), BigInteger))
        .where(Payout.status == "requested")
        .group_by(Payout.currency)
        .order_by(Payout.currency)
    ).all()
    account_checks = {name: check.INVARIANTS[name]() for name in ACCOUNT_CHECKS}
    return render_template(
        "admin.html",
        users_by_role=users_by_role,
        requested=requested,
        account_checks=account_checks,
        total_checks=len(check.INVARIANTS),
    )


@bp.get("/admin/ledger")
@role_required("admin")
def ledger():
    """Every invariant of the ledger (``flask billing check``), with what breaks it."""
    return render_template("admin_ledger.html", checks=check.run_checks())


@bp.get("/admin/jobs")
@role_required("admin")
def admin_jobs():
    from exchange.admin.failed_jobs import failed_counts, failed_jobs, redis_for_jobs

    connection = redis_for_jobs()
    if connection is None:
        return render_template("admin_jobs.html", in_process=True, failed={}, counts={}, queues=QUEUES)
    return render_template(
        "admin_jobs.html",
        in_process=False,
        failed=failed_jobs(connection),
        counts=failed_counts(connection),
        queues=QUEUES,
    )


@bp.post("/admin/jobs/requeue")
@role_required("admin")
def requeue_jobs():
    """Put the failed jobs of one queue (or of all) back on their queues; jobs are
    idempotent, so one whose work was done meanwhile does nothing."""
    from exchange.admin import failed_jobs

    back = url_for(".admin_jobs")
    queue = request.form.get("queue") or "all"
    if queue != "all" and queue not in QUEUES:
        return refused(f"no queue named {queue[:40]!r}.", back)
    connection = failed_jobs.redis_for_jobs()
    if connection is None:
        return refused("REDIS_URL is not set: jobs run in-process, there is no failed queue.", back)
    requeued = failed_jobs.requeue_failed(connection, QUEUES if queue == "all" else (queue,))
    where = "every queue" if queue == "all" else queue
    flash(f"{len(requeued)} failed job(s) requeued from {where}.", "notice")
    return redirect(back, code=303)


@bp.get("/admin/reports")
@role_required("admin")
def reports():
    """Every row and every column (exchange/reports/views.py)."""
    return report_page()


@bp.get("/admin/reports.csv")
@role_required("admin")
def reports_csv():
    return report_csv()
