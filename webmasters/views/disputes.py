"""The webmaster's disputes: the list and each one's thread, where it answers a request to
return a lead, writes to the moderators and the advertiser, or withdraws its appeal.
The views are exchange/disputes/views.py's, shared with the advertiser's portal."""

from __future__ import annotations

from exchange.accounts.views import role_required
from exchange.disputes import views as pages
from webmasters.views.common import bp


@bp.get("/disputes")
@role_required("webmaster")
def disputes():
    return pages.list_page()


@bp.get("/disputes/<id:dispute_id>")
@role_required("webmaster")
def dispute(dispute_id: int):
    return pages.thread_page(dispute_id)


@bp.post("/disputes/<id:dispute_id>/answer")
@role_required("webmaster")
def answer_dispute(dispute_id: int):
    return pages.answer(dispute_id)


@bp.post("/disputes/<id:dispute_id>/messages")
@role_required("webmaster")
def post_dispute_message(dispute_id: int):
    return pages.message(dispute_id)


@bp.post("/disputes/<id:dispute_id>/withdraw")
@role_required("webmaster")
def withdraw_dispute(dispute_id: int):
    return pages.withdraw(dispute_id)
