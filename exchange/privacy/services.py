"""Erasure on request: whose leads an email or a phone is, erasing them, and the record of
erasures. The API, the admin page and the CLI call these and commit once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from exchange.actors import Actor
from exchange.errors import Invalid
from exchange.extensions import db
from exchange.leads.checks import normalise_email, normalise_phone
from exchange.leads.models import Lead
from exchange.leads.normalise import PHONE_IMPOSSIBLE, analyse_email, analyse_phone
from exchange.privacy.domain import Counts
from exchange.privacy.erase import erase_leads
from exchange.privacy.hashing import hashed
from exchange.privacy.models import Erasure


@dataclass(frozen=True)
class Subject:
    """The consumer asked about: one contact, normalised as intake normalises a lead's."""

    kind: str  # email or phone
    normalised: str
    hash: str

    @property
    def key_column(self):
        return Lead.email_key if self.kind == "email" else Lead.phone_key

    @property
    def hash_column(self):
        return Lead.email_hash if self.kind == "email" else Lead.phone_hash


def subject_of(email: str | None = None, phone: str | None = None, country: str | None = None) -> Subject:
    """The one contact given, checked and normalised; 422 for none, both, or a malformed one."""
    email, phone = (email or "").strip(), (phone or "").strip()
    if bool(email) == bool(phone):
        problem = "Give an email or a phone." if not email else "Give an email or a phone, not both."
        raise Invalid(problem, fields={"email": [problem], "phone": [problem]})
    if email:
        checked = analyse_email(email)
        if checked.normalized is None:
            raise Invalid(
                "Not an email address.", fields={"email": [checked.problem or "Not an email address."]}
            )
        normalised = normalise_email(email)
    else:
        if analyse_phone(phone, country).verdict == PHONE_IMPOSSIBLE or not any(c.isdigit() for c in phone):
            raise Invalid("Not a phone number.", fields={"phone": ["Not a phone number."]})
        normalised = normalise_phone(phone, country)
    kind = "email" if email else "phone"
    return Subject(kind, normalised, hashed(kind, normalised))


def leads_of(subject: Subject) -> Select:
    """The consumer's leads: by hash (erased leads too) or by the contact itself (leads whose
    hash was made under another SECRET_KEY)."""
    return select(Lead.id).where(
        or_(subject.hash_column == subject.hash, subject.key_column == subject.normalised)
    )


def erase_consumer(actor: Actor, subject: Subject) -> Erasure:
    """Erase everything we hold about the consumer, and record that it was done (how many
    rows, by table; never the contact). Asking again erases nothing more and is recorded too."""
    counts = erase_leads(db.session.scalars(leads_of(subject).order_by(Lead.id)))
    return record_erasure(actor, "request", counts, subject)


def record_erasure(actor: Actor, cause: str, counts: Counts, subject: Subject | None = None) -> Erasure:
    erasure = Erasure(
        cause=cause,
        subject_kind=subject.kind if subject else None,
        subject_hash=subject.hash if subject else None,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:80],
        counts=dict(counts),
        rows_erased=counts.total,
    )
    db.session.add(erasure)
    db.session.flush()
    return erasure


def erasures_query(cause: str | None = None) -> Select:
    """Past erasures, newest first."""
    query = select(Erasure).order_by(Erasure.id.desc())
    return query.where(Erasure.cause == cause) if cause else query
