"""``/api/v1/privacy``: erasure requests, their record, and a consumer's data (admins only;
docs/privacy.md)."""

from __future__ import annotations

from exchange.accounts.auth import actor, api_key_required
from exchange.db import commit
from exchange.openapi import Blueprint
from exchange.pagination import paginate
from exchange.privacy.export import consumer_data
from exchange.privacy.schemas import (
    ConsumerDataSchema,
    ErasurePageSchema,
    ErasureSchema,
    ErasuresQuerySchema,
    SubjectSchema,
)
from exchange.privacy.services import erase_consumer, erasures_query, subject_of

blp = Blueprint("privacy", __name__, url_prefix="/api/v1/privacy", description="Consumers' personal data")
# Said in words (exchange/openapi.py).
CONTACT_RULE = (
    "email: an address that can exist; phone: a number that can exist (country: of one without its code)"
)


@blp.route("/erasures", methods=["POST"])
@blp.rules(CONTACT_RULE)
@api_key_required("admin")
@blp.arguments(SubjectSchema)
@blp.response(201, ErasureSchema)
def post_erasure(data: dict):
    """Erase one consumer's personal data everywhere we keep it (by email or by phone);
    answers the record of it: rows erased per table. Asking again erases nothing more."""
    erasure = erase_consumer(actor(), subject_of(**data))
    commit()
    return erasure


@blp.route("/erasures", methods=["GET"])
@api_key_required("admin")
@blp.arguments(ErasuresQuerySchema, location="query")
@blp.response(200, ErasurePageSchema)
def list_erasures(args: dict):
    """Past erasures, newest first: on request and by the retention sweep."""
    return paginate(erasures_query(args["cause"]), args["page"], args["per_page"])


@blp.route("/consumer-data", methods=["POST"])
@blp.rules(CONTACT_RULE)
@api_key_required("admin")
@blp.arguments(SubjectSchema)
@blp.response(200, ConsumerDataSchema)
def post_consumer_data(data: dict):
    """What we hold about one consumer (by email or by phone), as JSON. A POST, so that the
    contact travels in the body, never in a URL that access logs keep."""
    return consumer_data(subject_of(**data))
