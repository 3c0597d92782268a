"""Streamed CSV downloads over real HTTP: every row streamed, however many. (The request's
database session is closed before a streamed body is read; the rows must be read on the
session of the context the stream pushes again, or the export stops at its first batch,
or at its first row.)"""

from __future__ import annotations

import csv
import io

from billing.payouts.models import Payout, PayoutBatch
from exchange.db import commit
from exchange.extensions import db
from exchange.leads.bulk.api import EXPORT_BATCH
from exchange.leads.models import Lead
from tests.factories import lead_fields, make_key, make_offer, make_user
from tests.http_harness import LiveServer, call

LEADS = EXPORT_BATCH * 5 + 7  # several batches and a part of one


def test_every_lead_is_in_the_streamed_export(live_app):
    with live_app.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        key = make_key(advertiser)
        rows = [
            {
                "offer_id": offer.id,
                "advertiser_id": advertiser.id,
                "webmaster_id": webmaster.id,
                "fields": lead_fields(n),
                "status": "pending",
                "country": "US",
            }
            for n in range(LEADS)
        ]
        db.session.execute(Lead.__table__.insert(), rows)
        commit()

    with LiveServer(live_app) as server:
        reply = call(server.port, "GET", "/api/v1/leads/export.csv?order=asc", key)

    assert reply.status == 200
    exported = list(csv.DictReader(io.StringIO(reply.body)))
    assert len(exported) == LEADS
    assert len({row["id"] for row in exported}) == LEADS


def test_every_payout_of_a_batch_is_in_its_streamed_csv(live_app):
    """Found by the contract test (issue 17): the batch's rows were read on the request's
    session, closed before the body streamed, so the download failed at its first row."""
    with live_app.app_context():
        owners = [make_user("webmaster").id for _ in range(3)]
        key = make_key(make_user("admin"))
        batch = PayoutBatch(currency="USD")
        db.session.add(batch)
        db.session.flush()
        payouts = [
            Payout(webmaster_id=owners[n % 3], currency="USD", amount_minor=1000 + n, batch_id=batch.id)
            for n in range(25)
        ]
        db.session.add_all(payouts)
        commit()
        batch_id, payout_ids = batch.id, sorted(payout.id for payout in payouts)

    with LiveServer(live_app) as server:
        reply = call(server.port, "GET", f"/api/v1/admin/payout-batches/{batch_id}.csv", key)

    assert reply.status == 200, reply.body
    exported = list(csv.DictReader(io.StringIO(reply.body)))
    assert [int(row["payout_id"]) for row in exported] == payout_ids
