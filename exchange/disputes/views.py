"""The parties' dispute pages, shared by the advertiser's and the webmaster's portals: the
list of their disputes, and one dispute's thread with what the signed-in party may do on it
(concede or contest, write in the thread, withdraw its own claim).

The portals' route modules (advertisers/views/disputes.py, webmasters/views/disputes.py)
only call these. They translate as the other pages do: the same services as the API
(exchange/disputes/services.py), one commit; a refusal (past the deadline, already
answered, ...) is flashed on the thread after a 303, and a statement or message that is
empty or too long comes back on the page with its field message (422). Another party's
dispute is a 404, as in the API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from billing.domain import LedgerError
from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.db import commit, rollback
from exchange.disputes import domain
from exchange.disputes.access import visible_to
from exchange.disputes.models import Dispute
from exchange.disputes.queries import disputes_of
from exchange.disputes.resolution import KIND_NAMES
from exchange.disputes.schemas import MessageSchema, text
from exchange.disputes.services import answer_dispute, post_message, withdraw_dispute
from exchange.disputes.words import WORDS
from exchange.errors import AppError
from exchange.extensions import db
from exchange.leads.models import Lead
from exchange.offers.models import Offer

PORTALS = {"advertiser": "advertiser_portal", "webmaster": "webmaster_portal"}
LIST_LIMIT = 200
AUTHORS = {"moderator": "A moderator", "admin": "A moderator", "system": "The exchange"}
CONTEST_NEEDS_WORDS = "Write your statement: the moderators decide on both sides' words."


class ContestSchema(Schema):
    """Contesting sends the dispute to the moderators: they need the party's side in words."""

    statement = text(4000, required=True)


class ConcedeSchema(Schema):
    statement = text(4000, load_default=None)


# --- the pages ---------------------------------------------------------------------------------


def list_page():
    """The signed-in party's disputes, newest first, with what each waits for."""
    now = clock.now()
    rows = [_summary(dispute, current_user, now) for dispute in disputes_of(current_user.id, LIST_LIMIT)]
    return render_template("dispute_list.html", rows=rows, limit=LIST_LIMIT, **_layout())


def thread_page(dispute_id: int, errors: dict | None = None, values: dict | None = None, status: int = 200):
    dispute = visible_dispute(dispute_id)
    page = render_template(
        "dispute_thread.html",
        view=thread_view(dispute, current_user, clock.now()),
        errors=errors or {},
        values=values or {},
        **_layout(),
    )
    return page, status


def answer(dispute_id: int):
    """Concede or contest, from the thread's answer form (``answer``: concede | contest)."""
    visible_dispute(dispute_id)
    choice = request.form.get("answer")
    if choice not in ("concede", "contest"):
        return _refused(dispute_id, "choose Concede or Contest.")
    statement = (request.form.get("statement") or "").strip()
    if choice == "contest" and not statement:
        return _form_again(dispute_id, {"statement": [CONTEST_NEEDS_WORDS]}, {"statement": statement})
    schema = ContestSchema() if choice == "contest" else ConcedeSchema()
    try:
        loaded = schema.load({"statement": statement} if statement else {})
    except ValidationError as error:
        return _form_again(dispute_id, _messages(error, "statement"), {"statement": statement})
    accept = choice == "concede"
    done = (
        "You conceded: the claim is granted."
        if accept
        else "You contested: the moderators decide, with both sides' statements."
    )
    return _acted(
        dispute_id,
        lambda: answer_dispute(current_user, _actor(), dispute_id, accept, loaded["statement"]),
        done,
    )


def message(dispute_id: int):
    visible_dispute(dispute_id)
    body = (request.form.get("body") or "").strip()
    if not body:
        return _form_again(dispute_id, {"body": ["Write your message first."]}, {"body": body})
    try:
        loaded = MessageSchema().load({"body": body})
    except ValidationError as error:
        return _form_again(dispute_id, _messages(error, "body"), {"body": body})
    return _acted(
        dispute_id, lambda: post_message(current_user, dispute_id, loaded["body"]), "Message posted."
    )


def withdraw(dispute_id: int):
    visible_dispute(dispute_id)
    return _acted(
        dispute_id,
        lambda: withdraw_dispute(current_user, dispute_id),
        "You withdrew your claim: nothing changes on the lead.",
    )


# --- what the pages show -----------------------------------------------------------------------


def visible_dispute(dispute_id: int) -> Dispute:
    """The dispute if the signed-in user is one of its parties; otherwise 404, as the API."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not visible_to(dispute, current_user):
        abort(404)
    return dispute


def disputes_by_lead(user: User, leads: Iterable[Lead]) -> dict[int, list[Dispute]]:
    """The user's disputes on these leads (for the leads lists' links), oldest first."""
    lead_ids = [lead.id for lead in leads]
    if not lead_ids:
        return {}
    found: dict[int, list[Dispute]] = {}
    query = select(Dispute).where(Dispute.lead_id.in_(lead_ids)).order_by(Dispute.id)
    for dispute in db.session.scalars(query):
        if visible_to(dispute, user):
            found.setdefault(dispute.lead_id, []).append(dispute)
    return found


def thread_view(dispute: Dispute, user: User, now: datetime) -> dict:
    """Everything the thread page shows, for ``user`` (one of the parties): never the other
    party's email, only its role."""
    lead = db.session.get(Lead, dispute.lead_id)
    offer = db.session.get(Offer, lead.offer_id) if lead.offer_id is not None else None
    claimant = domain.CLAIMANT[dispute.kind] == user.role
    is_open = dispute.status in domain.OPEN
    answer_open = dispute.status == domain.AWAITING_ANSWER and now < dispute.answer_due_at
    return {
        **_summary(dispute, user, now),
        "dispute": dispute,
        "lead": {
            "id": lead.id,
            "status": lead.status,
            "offer_id": offer.id if offer else None,
            "offer_name": offer.name if offer else None,
        },
        "words": WORDS[dispute.kind],
        "reason_meaning": domain.REASONS[dispute.kind].get(dispute.reason, ""),
        "decision": _decision(dispute, user),
        "messages": [_message_view(m, user) for m in dispute.messages],
        "can_answer": not claimant and answer_open,
        "can_write": is_open,
        "can_withdraw": claimant and is_open,
    }


def _summary(dispute: Dispute, user: User, now: datetime) -> dict:
    claimant = domain.CLAIMANT[dispute.kind] == user.role
    waiting, deadline = _waiting_for(dispute, claimant)
    return {
        "id": dispute.id,
        "lead_id": dispute.lead_id,
        "kind": dispute.kind,
        "kind_name": KIND_NAMES[dispute.kind],
        "reason": dispute.reason,
        "status": dispute.status,
        "side": "you opened it" if claimant else "you answer it",
        "waiting_for": waiting,
        "deadline": deadline,
        "left": domain.time_left(deadline, now) if deadline else None,
        "answer_due_at": dispute.answer_due_at,
        "decide_by": dispute.decide_by,
        "outcome": dispute.outcome,
        "result": _result(dispute, user),
    }


def _waiting_for(dispute: Dispute, claimant: bool) -> tuple[str, datetime | None]:
    if dispute.status == domain.AWAITING_ANSWER:
        return ("the other party's answer" if claimant else "your answer"), dispute.answer_due_at
    if dispute.status == domain.ESCALATED:
        return "the moderators' decision", dispute.decide_by
    return "nothing: it is closed", None


def _result(dispute: Dispute, user: User) -> str | None:
    if dispute.status == domain.WITHDRAWN:
        return "withdrawn"
    if not dispute.outcome:
        return None
    return f"{dispute.outcome}: you {'won' if domain.winner(dispute.outcome) == user.role else 'lost'}"


def _decision(dispute: Dispute, user: User) -> dict | None:
    if not dispute.outcome:
        return None
    by = {
        "moderator": "a moderator",
        "party": "the other party, conceding"
        if domain.CLAIMANT[dispute.kind] == user.role
        else "you, conceding",
        "rule": "the offer's automatic return rule",
    }.get(dispute.decided_by or "", dispute.decided_by)
    return {
        "outcome": dispute.outcome,
        "won": domain.winner(dispute.outcome) == user.role,
        "by": by,
        "reason": dispute.decision_reason,
        "at": dispute.resolved_at,
        "effect": _effect(dispute.kind, dispute.outcome),
    }


def _effect(kind: str, outcome: str) -> str:
    words = WORDS[kind]
    return words.uphold if outcome == domain.UPHELD else words.overturn


def _message_view(message, user: User) -> dict:
    if message.author_role == user.role:
        author = "You"
    else:
        author = AUTHORS.get(message.author_role, f"The {message.author_role}")
    return {
        "author": author,
        "role": message.author_role,
        "body": message.body,
        "at": message.created_at,
    }


# --- acting ------------------------------------------------------------------------------------


def _layout() -> dict:
    """What the shared templates need to be the signed-in party's pages."""
    return {"portal": PORTALS[current_user.role], "role": current_user.role}


def _actor() -> Actor:
    return Actor(kind="user", user_id=current_user.id, label=current_user.email)


def _back(dispute_id: int) -> str:
    return url_for(f"{PORTALS[current_user.role]}.dispute", dispute_id=dispute_id)


def _acted(dispute_id: int, action: Callable[[], object], done: str):
    """Run one action and commit it; on a refusal, roll back and say why. Then the thread (303)."""
    try:
        action()
        commit()
        flash(done, "notice")
    except AppError as refused:
        rollback()
        problems = "; ".join(str(m) for messages in refused.fields.values() for m in messages)
        flash(f"Not done: {refused.message} {problems}".strip())
    except (domain.DisputeError, LedgerError) as refused:
        rollback()
        flash(f"Not done: {refused}")
    return redirect(_back(dispute_id), code=303)


def _refused(dispute_id: int, problem: str):
    flash(f"Not done: {problem}")
    return redirect(_back(dispute_id), code=303)


def _messages(error: ValidationError, name: str) -> dict[str, list[str]]:
    messages = error.messages.get(name, []) if isinstance(error.messages, dict) else error.messages
    return {name: [str(message) for message in messages]}


def _form_again(dispute_id: int, errors: dict[str, list[str]], values: dict):
    """The thread again with the field's message next to it and what was typed kept (422)."""
    return thread_page(dispute_id, errors=errors, values=values, status=422)
