"""The advertiser's disputes: the list and each one's thread, where it answers an appeal,
writes to the moderators and the webmaster, or withdraws its request to return a lead.
The views are exchange/disputes/views.py's, shared with the webmaster's portal."""

from __future__ import annotations

from advertisers.views.common import bp
from exchange.accounts.views import role_required
from exchange.disputes import views as pages


@bp.get("/disputes")
@role_required("advertiser")
def disputes():
    return pages.list_page()


@bp.get("/disputes/<id:dispute_id>")
@role_required("advertiser")
def dispute(dispute_id: int):
    return pages.thread_page(dispute_id)


@bp.post("/disputes/<id:dispute_id>/answer")
@role_required("advertiser")
def answer_dispute(dispute_id: int):
    return pages.answer(dispute_id)


@bp.post("/disputes/<id:dispute_id>/messages")
@role_required("advertiser")
def post_dispute_message(dispute_id: int):
    return pages.message(dispute_id)


@bp.post("/disputes/<id:dispute_id>/withdraw")
@role_required("advertiser")
def withdraw_dispute(dispute_id: int):
    return pages.withdraw(dispute_id)
