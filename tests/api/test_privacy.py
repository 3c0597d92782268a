"""Consumers' personal data (issue 17, point 8; docs/privacy.md): an erasure by email or
phone takes the consumer out of every table that held them, leaves the ledger as it was
(``flask billing check`` after each test, the ``billing_check`` fixture), still catches
their duplicates, and is recorded without the contact; the export shows what we hold; the
API is for admins only and refuses bad input with 422; the CLI and the admin page work."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from billing.models import Transfer
from exchange import clock
from exchange.delivery.leads.models import LeadDelivery, LeadDeliveryAttempt
from exchange.extensions import db
from exchange.leads.models import Consent, Lead
from exchange.longjobs.models import LongTask
from exchange.privacy.models import Erasure
from exchange.tracking.models import Click
from tests.api.test_web_portal import login, request
from tests.factories import auth, fund, make_click, make_join, make_key, make_offer, make_user

pytestmark = pytest.mark.usefixtures("billing_check")

ZELDA = {
    "name": "Zelda Quaritch",
    "phone": "+1 202 555 0177",
    "email": "Zelda.Q@example.com",
    "country": "US",
}
ZELDA_TRACES = ("Zelda Quaritch", "+1 202 555 0177", "+12025550177", "zelda.q@example.com", "203.0.113.77")
OTTO = {"name": "Otto Brandt", "phone": "+1 202 555 0188", "email": "otto@example.com", "country": "US"}


class Market:
    """An advertiser's offer, a webmaster on it, an admin, and their keys."""

    def __init__(self, client, **offer_settings):
        self.client = client
        self.advertiser, self.webmaster, self.admin = (
            make_user(r) for r in ("advertiser", "webmaster", "admin")
        )
        self.offer = make_offer(self.advertiser, min_click_to_lead_seconds=0, **offer_settings)
        fund(self.advertiser, 100_000)
        self.participation = make_join(self.webmaster, self.offer)
        self.adv, self.wm, self.adm = (make_key(u) for u in (self.advertiser, self.webmaster, self.admin))

    def call(self, key: str | None, method: str, path: str, body: dict | None = None, status: int = 200):
        headers = auth(key) if key else {}
        response = self.client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def lead(self, fields: dict, **extra) -> dict:
        return self.call(
            self.wm, "POST", "/leads", {"offer_id": self.offer.id, "fields": fields, **extra}, 202
        )

    def approved(self, fields: dict, **extra) -> int:
        lead = self.lead(fields, **extra)
        assert lead["status"] == "pending", lead
        self.call(self.adv, "POST", f"/leads/{lead['id']}/approve", {})
        return lead["id"]


def every_stored_text() -> dict[str, list[str]]:
    """Every value of every row of every table, as text, by table."""
    texts: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                elif isinstance(value, dict | list):
                    value = json.dumps(value, ensure_ascii=False)
                if value is not None:
                    texts.setdefault(table.name, []).append(str(value).lower())
    return texts


def tables_holding(*needles: str) -> set[str]:
    return {
        table
        for table, texts in every_stored_text().items()
        if any(needle.lower() in text for text in texts for needle in needles)
    }


def ledger() -> list[tuple]:
    """Every transfer, every column."""
    return [tuple(row) for row in db.session.execute(select(Transfer.__table__).order_by(Transfer.id))]


def zelda_everywhere(market: Market) -> int:
    """Zelda's lead, approved, with her data spread where the exchange keeps such things: a
    click, a consent, an advertiser's answer that echoed her, a return dispute that names
    her, an export still stored. Otto's lead sits beside it and must stay whole."""
    click = make_click(market.participation)
    lead_id = market.approved(ZELDA, click_id=click.click_id, ip="203.0.113.77", user_agent="Zelda's browser")
    market.approved(OTTO, ip="203.0.113.88")
    db.session.add(
        Consent(
            lead_id=lead_id,
            text="I agree to be called.",
            given_at=clock.now(),
            ip="203.0.113.77",
            page_url="https://landing.example.com/?email=zelda.q%40example.com&name=Zelda Quaritch",
        )
    )
    delivery = LeadDelivery(
        advertiser_id=market.advertiser.id, lead_id=lead_id, url="https://crm.example.com/in"
    )
    db.session.add(delivery)
    db.session.flush()
    db.session.add(
        LeadDeliveryAttempt(
            delivery_id=delivery.id,
            number=1,
            at=clock.now(),
            status_code=200,
            latency_ms=12,
            url=delivery.url,
            response_excerpt='{"stored": "Zelda.Q@example.com"}',
        )
    )
    db.session.commit()
    statement = "Zelda Quaritch at +1 202 555 0177 says she never asked for a quote."
    market.call(
        market.adv,
        "POST",
        "/disputes",
        {"lead_id": lead_id, "reason": "invalid_contact", "statement": statement},
        201,
    )
    task = market.call(market.adv, "POST", "/exports", {"kind": "leads_export", "params": {}}, 202)
    assert task["state"] == "done"  # run in-process on the fast suite
    return lead_id


def test_an_erasure_takes_the_consumer_out_of_every_table_and_leaves_the_money_alone(client, ctx):
    market = Market(client)
    lead_id = zelda_everywhere(market)
    before = ledger()
    assert {"leads", "lead_consents", "lead_delivery_attempts", "disputes", "dispute_messages",
            "long_tasks"} <= tables_holding(*ZELDA_TRACES)  # fmt: skip
    assert db.session.scalars(select(Click)).one().ip  # her click's address, erased with her

    erasure = market.call(market.adm, "POST", "/privacy/erasures", {"email": "ZELDA.Q@example.com"}, 201)

    assert tables_holding(*ZELDA_TRACES) == set()
    assert {"leads", "lead_consents", "clicks", "lead_delivery_attempts", "disputes", "dispute_messages",
            "long_tasks"} <= set(erasure["counts"])  # fmt: skip
    assert erasure["rows_erased"] == sum(erasure["counts"].values())
    assert (erasure["cause"], erasure["subject_kind"], erasure["actor_user_id"]) == (
        "request",
        "email",
        market.admin.id,
    )
    lead = db.session.get(Lead, lead_id, populate_existing=True)
    assert lead.fields == dict.fromkeys(ZELDA, "[erased]")
    assert (lead.email_key, lead.phone_key, lead.ip, lead.user_agent) == (None, None, None, None)
    assert lead.email_hash and lead.phone_hash and lead.erased_at  # what duplicate checks need
    assert (lead.status, lead.rate_minor, lead.payout_minor) == ("approved", 1500, 1000)
    assert ledger() == before
    # Otto is untouched, and so is the rest of the export holding him.
    assert {"leads", "long_tasks"} <= tables_holding("otto@example.com", "Otto Brandt")
    export = db.session.scalars(select(LongTask)).one()
    assert b"[erased]" in export.result and len(export.result) == export.result_bytes
    # Nothing about her in the record of it.
    record = db.session.get(Erasure, erasure["id"])
    assert (
        "zelda"
        not in json.dumps({c.name: str(getattr(record, c.name)) for c in Erasure.__table__.columns}).lower()
    )
    assert db.session.scalars(select(Click)).one().ip is None


def test_asking_again_erases_nothing_more_and_both_requests_are_listed(client, ctx):
    market = Market(client)
    market.approved(ZELDA)
    first = market.call(market.adm, "POST", "/privacy/erasures", {"phone": "+1 (202) 555-0177"}, 201)
    again = market.call(market.adm, "POST", "/privacy/erasures", {"email": "zelda.q@example.com"}, 201)

    assert first["counts"]["leads"] == 1
    assert (again["rows_erased"], again["counts"]) == (0, {})
    listed = market.call(market.adm, "GET", "/privacy/erasures?cause=request")
    assert [e["id"] for e in listed["items"]] == [again["id"], first["id"]] and listed["total"] == 2


def test_duplicates_are_still_caught_after_erasure_by_email_and_by_phone(client, ctx):
    market = Market(client)
    market.approved(ZELDA)
    market.call(market.adm, "POST", "/privacy/erasures", {"email": ZELDA["email"]}, 201)

    same_email = market.lead({**OTTO, "email": ZELDA["email"]})
    same_phone = market.lead({**OTTO, "phone": "2025550177"})  # written another way, same number
    assert (same_email["status"], same_email["reason_codes"]) == ("rejected", ["duplicate"])
    assert (same_phone["status"], same_phone["reason_codes"]) == ("rejected", ["duplicate"])
    assert market.lead(OTTO)["status"] == "pending"


def test_the_export_shows_what_we_hold_and_after_erasure_only_what_is_left(client, ctx):
    market = Market(client)
    lead_id = market.approved(ZELDA, ip="203.0.113.77")
    market.approved(OTTO)

    data = market.call(market.adm, "POST", "/privacy/consumer-data", {"phone": "+12025550177"})
    assert (data["kind"], data["contact"], data["erased_at"]) == ("phone", "+12025550177", [])
    [lead] = data["leads"]
    assert (lead["lead_id"], lead["fields"], lead["email"], lead["ip"]) == (
        lead_id, ZELDA, "zelda.q@example.com", "203.0.113.77"
    )  # fmt: skip
    assert lead["recipient_ids"] == [] and lead["status"] == "approved"

    market.call(market.adm, "POST", "/privacy/erasures", {"phone": "+12025550177"}, 201)
    data = market.call(market.adm, "POST", "/privacy/consumer-data", {"phone": "+12025550177"})
    [lead] = data["leads"]
    assert (lead["fields"]["email"], lead["email"], lead["ip"]) == ("[erased]", None, None)
    assert len(data["erased_at"]) == 1 and lead["erased_at"]


@pytest.mark.parametrize("path", ["/privacy/erasures", "/privacy/consumer-data"])
def test_only_admins_may_erase_or_export(client, ctx, path):
    market = Market(client)
    body = {"email": ZELDA["email"]}
    assert market.call(None, "POST", path, body, 401)["error"]["code"] == "missing_api_key"
    for key in (market.adv, market.wm, make_key(make_user("moderator"))):
        assert market.call(key, "POST", path, body, 403)["error"]["code"] == "wrong_role"
    market.call(market.wm, "GET", "/privacy/erasures", status=403)
    assert db.session.scalars(select(Erasure)).all() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"email": ZELDA["email"], "phone": ZELDA["phone"]}, "phone"),
        ({"email": "not an email"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "+1 202 555 0177", "country": "USA"}, "country"),
        ({"email": 42}, "email"),
    ],
)
def test_bad_input_is_a_422_in_the_apps_error_shape(client, ctx, body, field):
    market = Market(client)
    for path in ("/privacy/erasures", "/privacy/consumer-data"):
        error = market.call(market.adm, "POST", path, body, 422)["error"]
        assert error["code"] == "validation_error" and field in json.dumps(error["fields"])
    assert db.session.scalars(select(Erasure)).all() == []


def test_the_cli_erases_exports_and_refuses_without_a_contact(app, client, ctx):
    market = Market(client)
    market.approved(ZELDA)
    runner = app.test_cli_runner()

    exported = runner.invoke(args=["privacy", "export", "--email", ZELDA["email"]])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["leads"][0]["fields"] == ZELDA
    refused = runner.invoke(args=["privacy", "erase"])
    assert refused.exit_code == 2 and "Give an email or a phone" in refused.output

    erased = runner.invoke(
        args=["privacy", "erase", "--phone", "202 555 0177", "--country", "us", "--by", "ticket 7"]
    )
    assert erased.exit_code == 0, erased.output
    assert "rows_erased=1 leads=1" in erased.output
    record = db.session.scalars(select(Erasure)).one()
    assert (record.actor_kind, record.actor_label, record.subject_kind) == (
        "system",
        "cli: ticket 7",
        "phone",
    )
    assert tables_holding(*ZELDA_TRACES) == set()


def test_the_admin_page_erases_exports_and_lists_erasures(app, client, ctx):
    market = Market(client)
    market.approved(ZELDA)
    webmaster_login = make_user("webmaster")
    assert login(app, client, webmaster_login.email).status_code == 302
    assert request(app, client, "GET", "/admin/privacy/").status_code == 403
    assert login(app, client, market.admin.email).status_code == 302
    assert "No erasure yet." in request(app, client, "GET", "/admin/privacy/").get_data(as_text=True)

    download = request(
        app, client, "POST", "/admin/privacy/export", data={"kind": "email", "contact": ZELDA["email"]}
    )
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.get_data(as_text=True))["leads"][0]["fields"] == ZELDA
    done = request(
        app, client, "POST", "/admin/privacy/erasures", data={"kind": "email", "contact": ZELDA["email"]}
    )
    assert done.status_code == 303
    page = request(app, client, "GET", "/admin/privacy/").get_data(as_text=True)
    assert "row(s) erased" in page and "leads: 1" in page and market.admin.email in page
    refused = request(
        app, client, "POST", "/admin/privacy/erasures", data={"kind": "phone", "contact": "nope"}
    )
    assert "Not a phone number." in request(app, client, "GET", refused.headers["Location"]).get_data(
        as_text=True
    )
    assert tables_holding(*ZELDA_TRACES) == set()


def test_the_logs_stay_append_only_but_for_erasure(client, ctx):
    """The database itself (triggers of migrations 0001, 0011, 0022): an attempt's excerpt may
    become "[erased]", nothing else about it may change, and the ledger not at all."""
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    market = Market(client)
    zelda_everywhere(market)
    attempt_id = db.session.scalar(select(LeadDeliveryAttempt.id))
    transfer_id = db.session.scalar(select(Transfer.id))
    refused = [
        ("UPDATE lead_delivery_attempts SET response_excerpt = 'rewritten' WHERE id = :id", attempt_id),
        ("UPDATE lead_delivery_attempts SET status_code = 500 WHERE id = :id", attempt_id),
        ("DELETE FROM lead_delivery_attempts WHERE id = :id", attempt_id),
        ("UPDATE transfers SET amount_minor = amount_minor WHERE id = :id", transfer_id),
    ]
    for statement, row_id in refused:
        with pytest.raises(DatabaseError), db.session.begin_nested():
            db.session.execute(text(statement), {"id": row_id})
    with db.session.begin_nested():
        db.session.execute(
            text("UPDATE lead_delivery_attempts SET response_excerpt = '[erased]' WHERE id = :id"),
            {"id": attempt_id},
        )
    assert (
        db.session.get(LeadDeliveryAttempt, attempt_id, populate_existing=True).response_excerpt == "[erased]"
    )


def test_retention_days_are_set_on_offers_and_verticals_through_the_api(client, ctx):
    market = Market(client)
    offer = market.call(market.adv, "PATCH", f"/offers/{market.offer.id}", {"retention_days": 90})
    assert offer["retention_days"] == 90
    error = market.call(market.adv, "PATCH", f"/offers/{market.offer.id}", {"retention_days": 0}, 422)[
        "error"
    ]
    assert "retention_days" in error["fields"]
    assert (
        market.call(market.adv, "PATCH", f"/offers/{market.offer.id}", {"retention_days": None})[
            "retention_days"
        ]
        is None
    )


def test_retention_is_set_on_the_offers_page_and_the_verticals_page(app, client, ctx):
    from exchange.offers.models import Offer
    from exchange.verticals.models import Vertical
    from tests.api.test_advertiser_pages import NEW_OFFER, signed_in
    from tests.api.test_exchange_pages import vertical_form
    from tests.exchange_factories import make_vertical

    advertiser = make_user("advertiser")
    offer_id = make_offer(advertiser).id
    signed_in(app, client, advertiser)
    form = {name: value for name, value in NEW_OFFER.items() if name not in ("model", "currency")}
    form["fields"] = json.dumps(db.session.get(Offer, offer_id).fields)
    saved = request(
        app, client, "POST", f"/advertiser/offers/{offer_id}", data={**form, "retention_days": "90"}
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    assert db.session.get(Offer, offer_id, populate_existing=True).retention_days == 90
    assert (
        'name="retention_days" value="90"'
        in request(app, client, "GET", f"/advertiser/offers/{offer_id}").text
    )

    vertical = make_vertical()
    signed_in(app, client, make_user("admin"))
    path = f"/admin/verticals/{vertical.id}"
    assert (
        request(app, client, "POST", path, data=vertical_form(vertical, retention_days="30")).status_code
        == 200
    )
    assert db.session.get(Vertical, vertical.id, populate_existing=True).retention_days == 30
    refused = request(app, client, "POST", path, data=vertical_form(vertical, retention_days="soon"))
    assert refused.status_code == 422 and "A whole number of days" in refused.text
    request(app, client, "POST", path, data=vertical_form(vertical, retention_days=""))
    assert db.session.get(Vertical, vertical.id, populate_existing=True).retention_days is None
