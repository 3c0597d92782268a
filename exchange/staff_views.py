"""Pages for admins (users, payouts, ledger, failed jobs); moderators' are in exchange/moderation/views.py."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from billing.check import run_checks
from billing.models import Payout
from exchange.accounts.models import User
from exchange.accounts.views import role_required
from exchange.extensions import db

bp = Blueprint("staff_portal", __name__)


@bp.get("/admin/")
@role_required("admin")
def admin():
    users = db.session.scalars(select(User).order_by(User.id)).all()
    payouts = db.session.scalars(select(Payout).where(Payout.status == "requested").order_by(Payout.id)).all()
    return render_template("admin.html", users=users, payouts=payouts, checks=run_checks())


@bp.get("/admin/jobs")
@role_required("admin")
def admin_jobs():
    from exchange.jobs_admin import failed_counts, failed_jobs, redis_for_jobs

    connection = redis_for_jobs()
    if connection is None:
        return render_template("admin_jobs.html", in_process=True, failed={}, counts={})
    return render_template(
        "admin_jobs.html", in_process=False, failed=failed_jobs(connection), counts=failed_counts(connection)
    )
