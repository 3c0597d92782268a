"""The leads' CSV export over real HTTP: every row streamed, however many. (The request's
database session is closed before a streamed body is read; the rows must be read on the
session of the context the stream pushes again, or the export stops at its first batch.)"""

from __future__ import annotations

import csv
import io

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
