"""Posting a catalog sale to its buyer's endpoint: the same signed body as an auction's sale
(``exchange.sale``, exchange/auctions/posts.py), sent once by a job on the delivery queue
after the purchase commits. A 2xx takes it; ``{"decision": "reject"}`` is the buyer's
rejection in its review window (the money goes back, the slot is free); anything else
leaves the post failed, and the buyer reads the lead by API as always."""

from __future__ import annotations

import time

from flask import current_app

from exchange.auctions.calls import SALE_EVENT
from exchange.auctions.posts import post_requests
from exchange.buying.decisions import lock_sale, reject_sale
from exchange.buying.models import Sale
from exchange.db import commit
from exchange.delivery.leads.domain import REJECT, parse_decision, signed_headers
from exchange.delivery.sender import send
from exchange.extensions import db

ALLOW_SETTING = "AUCTION_ALLOW_PRIVATE_ADDRESSES"


def post_catalog_sale(sale_id: int) -> str:
    """Post the sale once, then record what happened under the sale's lock (no lock is held
    while the buyer's endpoint answers); what happened, in a word (the job's result)."""
    sale = db.session.get(Sale, sale_id)
    if sale is None or sale.status != "pending" or sale.post_status != "queued":
        return "nothing to post"  # posted already, or decided since
    requests = post_requests([sale.id])  # no endpoint any more: post_status none
    if not requests:
        return "no endpoint"
    [request] = requests
    commit()  # end the read: nothing is held while the post waits
    config = current_app.config
    result = send(
        request.url,
        method="POST",
        body=request.body,
        headers=signed_headers(request.secret, int(time.time()), request.body, SALE_EVENT),
        timeout=config["AUCTION_POST_TIMEOUT_SECONDS"],
        allow_private=config[ALLOW_SETTING],
        setting=ALLOW_SETTING,
    )
    sale = lock_sale(sale_id)
    if sale.status != "pending" or sale.post_status != "queued":
        return "decided meanwhile"  # the buyer rejected it, or another run posted it
    if result.error is not None:
        sale.post_status, sale.post_error = "failed", result.error[:500]
        return "failed"
    decision = parse_decision(result.status_code, result.body)
    if decision.action == REJECT:
        sale.post_status = "refused"
        reject_sale(sale.id, sale.buyer_id, (decision.reason or "refused by the buyer's endpoint")[:500])
        return "refused"
    sale.post_status = "delivered"
    return "delivered"
