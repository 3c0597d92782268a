"""The demo's exchange (``flask demo seed``): two verticals, a seller, buyers with fixed
and pinged buy orders (the pinged one asks the demo server's own buyer,
exchange/demo_buyer.py), and a history of auctions with every outcome: sold shared, sold
exclusively, sold after a ping-post quote, unsold for want of a bid, a lead rejected by
validation, the same consumer resubmitted after its exclusive sale, a sale approved and a
sale rejected by its buyer; visitors who followed the seller's vertical link and sent the
hosted form, each lead tied to its click; the catalog at every age step, and purchases from
it returned by their buyer (conceded, waiting for the seller, contested before the
moderators). Through the same services as real traffic."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from werkzeug.serving import make_server

from billing.services import credit_advertiser
from exchange import clock
from exchange.accounts.models import User
from exchange.actors import Actor
from exchange.buying.decisions import approve_sale, reject_sale
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.returns import open_sale_return
from exchange.buying.schemas import BuyOrderCreateSchema
from exchange.buying.services import create_buy_order
from exchange.catalog.listing import sweep_catalog
from exchange.catalog.purchases import Purchase, buy
from exchange.catalog.search import Search, search
from exchange.db import commit
from exchange.demo_buyer import PING_PATH
from exchange.disputes.services import answer_dispute
from exchange.extensions import db
from exchange.quality.jobs import rate_quality_now
from exchange.selling.form import Visitor, submit_form
from exchange.selling.intake import submit_to_vertical
from exchange.selling.pings import post, quote
from exchange.tracking.links import vertical_target_of
from exchange.tracking.services import record_vertical_click
from exchange.verticals.models import VerticalSeller
from exchange.verticals.schemas import VerticalCreateSchema
from exchange.verticals.services import create_vertical, join_vertical

SOLAR_FIELDS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "phone", "type": "phone", "required": True},
    {"name": "email", "type": "email", "required": False},
    {"name": "country", "type": "country", "required": True},
    {"name": "region", "type": "string", "required": False},
    {"name": "homeowner", "type": "boolean", "required": False},
]
CONSENT = {
    "text": "I agree to be contacted by up to three solar installers about a quote.",
    "page_url": "https://quotes.traffic-garden.example/solar",
    "ip": "203.0.113.20",
    "certificate": "https://cert.trustedform.com/demo-0001",
}


def seed_exchange(seller: User, buyer: User, second_buyer: User) -> None:
    solar = create_vertical(
        VerticalCreateSchema().load(
            {
                "name": "Solar — US",
                "description": "Homeowners asking for a solar quote; shared between up to three installers.",
                "currency": "USD",
                "fields": SOLAR_FIELDS,
                "personal_fields": ["name"],
                "allowed_countries": ["US"],
                "floors": {"US": {"cold": 800, "warm": 1200, "hot": 1800}},
                "margin_bps": 2000,
                "slots": 3,
                "sellers_need_approval": True,
                "return_cap_percent": 50,
            }
        )
    )
    insurance = create_vertical(
        VerticalCreateSchema().load(
            {
                "name": "Car insurance — DE",
                "description": "Drivers asking for a car insurance quote; sold to one insurer only.",
                "currency": "EUR",
                "fields": [spec for spec in SOLAR_FIELDS if spec["name"] != "homeowner"],
                "allowed_countries": ["DE"],
                "floors": {"DE": {"cold": 1500, "hot": 2500}},
                "margin_minor": 300,
                "slots": 1,
                "sellers_need_approval": False,
            }
        )
    )
    standings = [join_vertical(seller, vertical.id) for vertical in (solar, insurance)]
    for standing in standings:
        standing.status = "active"  # approved for the demo
    credit_advertiser(second_buyer.id, "USD", 50_000, "demo-second-buyer-usd")
    credit_advertiser(second_buyer.id, "EUR", 80_000, "demo-second-buyer-eur")
    _order(
        buyer,
        solar.id,
        "Solar: any homeowner, shared",
        bid_minor=1300,
        filters={"conditions": [{"field": "homeowner", "op": "=", "value": True}]},
    )
    _order(
        second_buyer,
        solar.id,
        "Solar: warm and hot Texans, exclusive",
        bid_minor=4200,
        exclusive=True,
        filters={"regions": ["TX"], "min_temperature": "warm"},
        caps={"day_leads": 20},
    )
    _order(
        second_buyer,
        solar.id,
        "Solar: priced by our endpoint",
        pricing="ping",
        ping_url=f"http://127.0.0.1:5000{PING_PATH}",
        max_bid_minor=3000,
    )
    _order(second_buyer, insurance.id, "Insurance: all of Germany", bid_minor=2400, exclusive=True)
    commit()
    with demo_buyer_served(current_app._get_current_object()) as base_url:
        _point_demo_orders_at(base_url)
        commit()
        _history(seller, solar.id, insurance.id)
        _form_visits(standings[0])
    _point_demo_orders_at("http://127.0.0.1:5000")
    commit()
    _catalog_stock(seller, solar.id)
    sweep_catalog()  # what the auctions left: in the catalog (GET /api/v1/catalog)
    _returns(seller, buyer)
    _insurance_record(seller, second_buyer, insurance.id)
    rate_quality_now()  # the seller's multipliers and the buyers' ranks, with their reasons
    sweep_catalog()  # the slot returned as a duplicate is for sale again


# Drivers sold to the insurer, of whom it rejects this many: 6 of 20 is 30 %, so the demo
# seller sells on "Car insurance — DE" at 75 % (docs/exchange.md, "Quality").
INSURANCE_RECORD, INSURANCE_REJECTED = 20, 6


def _insurance_record(seller: User, insurer: User, insurance_id: int) -> None:
    """A record that moves money: the insurer buys twenty drivers and rejects six."""
    actor = Actor(kind="user", user_id=seller.id, label="demo")
    for n in range(INSURANCE_RECORD):
        fields = {
            "name": f"Demo Driver {n}",
            "phone": f"+49 30 9013{n:04d}",
            "email": f"driver{n}@example.com",
            "country": "DE",
            "region": "BE",
        }
        body = {"fields": fields, "consent": CONSENT | {"given_at": _now_aware()}}
        submit_to_vertical(seller.id, insurance_id, body, actor)
        commit()
    sales = db.session.scalars(
        select(Sale).where(Sale.vertical_id == insurance_id, Sale.status == "pending").order_by(Sale.id)
    ).all()
    for n, sale in enumerate(sales):
        if n < INSURANCE_REJECTED:
            reject_sale(sale.id, insurer.id, "the driver says they never asked for a quote")
        else:
            approve_sale(sale.id, insurer.id)
    commit()


# Returns of catalog purchases (docs/exchange.md, "Returns"): the reason, what the seller
# does, and the buyer's evidence.
RETURNS = (
    ("duplicate", True, "We had this homeowner from our own site the week before."),
    ("wrong_number", None, "Called 3 times over two days: the number is not in service."),
    ("not_the_consumer", False, "The person who answered says a neighbour filled in the form."),
)


def _returns(seller: User, buyer: User) -> None:
    """The buyer buys the youngest catalog leads, approves them, and returns three: one its
    seller concedes (the money goes back, the slot is sold again), one waiting for the
    seller's answer, one contested (in the moderators' queue)."""
    young = search(Search(sort="newest", per_page=6, not_bought_by=buyer.id), clock.now())["items"]
    sales = [buy(buyer.id, Purchase(item["lead_id"])) for item in young]
    for sale in sales:
        approve_sale(sale.id, buyer.id)
    commit()
    as_buyer = Actor(kind="user", user_id=buyer.id, label="demo")
    as_seller = Actor(kind="user", user_id=seller.id, label="demo")
    for sale, (reason, concede, evidence) in zip(sales, RETURNS, strict=False):
        dispute = open_sale_return(buyer, as_buyer, sale.id, reason, evidence)
        if concede is not None:
            statement = "Fair: refunded." if concede else "The consent record shows the consumer's own IP."
            answer_dispute(seller, as_seller, dispute.id, concede, statement)
        commit()


# Renters nobody's buy order takes, captured this many hours ago: the catalog at every age
# step of the default schedule (100 %, 75 %, 50 %, 20 %), and one past its last.
CATALOG_AGES_HOURS = (1, 6, 30, 50, 80, 200, 400, 1000, 2000, 2200)


def _catalog_stock(seller: User, solar_id: int) -> None:
    actor = Actor(kind="user", user_id=seller.id, label="demo")
    regions = ("CA", "NV", "AZ", "FL", "NY")  # not Texas: a buy order takes warm Texans
    for n, hours in enumerate(CATALOG_AGES_HOURS):
        fields = {
            "name": f"Catalog Person {n}",
            "phone": f"+1 202 555 03{n:02d}",
            "email": f"renter{n}@example.com",
            "country": "US",
            "region": regions[n % len(regions)],
            "homeowner": False,  # no buy order takes renters: unsold, so in the catalog
        }
        body = {"fields": fields, "consent": CONSENT | {"given_at": _now_aware()}}
        lead = submit_to_vertical(seller.id, solar_id, body, actor).lead
        commit()  # validated and auctioned (unsold) now, in-process
        lead.created_at = clock.now() - timedelta(hours=hours)  # as if captured then
    commit()


def _history(seller: User, solar_id: int, insurance_id: int) -> None:
    actor = Actor(kind="user", user_id=seller.id, label="demo")

    def sell(vertical_id: int, n: int, **fields) -> int:
        values = {
            "name": f"Demo Person {n}",
            "phone": f"+1 202 555 02{n:02d}",
            "email": f"buyer{n}@example.com",
            "country": "US",
            "region": "CA",
            "homeowner": True,
        } | fields
        values = {name: value for name, value in values.items() if value is not None}
        body = {"fields": values, "consent": CONSENT | {"given_at": _now_aware()}}
        lead = submit_to_vertical(seller.id, vertical_id, body, actor).lead
        commit()  # validation and the auction run now (in-process), or on the workers
        return lead.id

    sell(solar_id, 1)  # shared between the fixed and the pinged buyer
    sell(solar_id, 2, region="TX")  # the exclusive Texan order, if warm enough; else shared
    sell(solar_id, 3, homeowner=False)  # nobody buys renters: unsold
    sell(solar_id, 4, country="CA", phone="+1 416 555 0104")  # outside the vertical's countries: rejected
    driver = {"phone": "+49 30 901234 55", "country": "DE", "region": "BE", "homeowner": None}
    sell(insurance_id, 5, **driver)  # sold exclusively
    sell(insurance_id, 5, **driver, name="Demo Person 5 again")  # the same consumer again: a duplicate
    quoted = quote(seller.id, solar_id, {"country": "US", "region": "NV", "homeowner": True}).ping
    commit()
    if quoted is not None:  # ping-post in: priced first, then sold whole at that price or better
        body = {
            "fields": {**quoted.fields, "name": "Demo Person 7", "phone": "+1 202 555 0207"},
            "consent": CONSENT | {"given_at": _now_aware()},
        }
        post(seller.id, quoted.token, body, actor, None)
    sales = list(db.session.scalars(select(Sale).order_by(Sale.id)))
    if len(sales) >= 2:
        approve_sale(sales[0].id, sales[0].buyer_id)
        reject_sale(sales[1].id, sales[1].buyer_id, "the homeowner says they never asked")
    commit()


def _form_visits(standing: VerticalSeller) -> None:
    """Visitors click the seller's vertical link, read the form for a few minutes and send it
    (one with a TrustedForm certificate); each lead is tied to its click and its sub ids."""
    visitors = [
        ("Demo Visitor 8", "+1 202 555 0208", {"sub1": "facebook", "sub2": "roofs"}, None),
        (
            "Demo Visitor 9",
            "+1 202 555 0209",
            {"sub1": "google", "sub2": "solar-tx"},
            "https://cert.trustedform.com/5d2c9a0f6b3e4a1d8c7b6a5f4e3d2c1b0a998877",
        ),
    ]
    target = vertical_target_of(standing, standing.vertical, "active")
    for n, (name, phone, subs, certificate) in enumerate(visitors):
        ip, agent = f"203.0.113.{30 + n}", "Mozilla/5.0 (demo visitor)"
        frozen, sent_at = clock.frozen_at(), clock.now()
        clock.freeze(sent_at - timedelta(minutes=4))
        try:
            click_id = record_vertical_click(target, subs, ip, agent).click_id
        finally:
            clock.freeze(None if frozen is None else sent_at)
        values = {"name": name, "phone": phone, "country": "US", "region": "TX", "homeowner": True}
        page = f"http://127.0.0.1:5000/v/{standing.token}/form?click_id={click_id}"
        visitor = Visitor(ip=ip, user_agent=agent, page_url=page, agreed_at=clock.now())
        submit_form(standing, values, click_id, certificate, visitor)
        commit()  # validation and the auction run now (in-process), or on the workers


def _order(buyer: User, vertical_id: int, name: str, **settings) -> BuyOrder:
    body = {"vertical_id": vertical_id, "name": name, **settings}
    return create_buy_order(buyer.id, BuyOrderCreateSchema().load(body))


def _point_demo_orders_at(base_url: str) -> None:
    """The demo's pinged buy orders ask the demo server's own buyer, wherever it listens."""
    db.session.execute(
        update(BuyOrder)
        .where(BuyOrder.ping_url.like(f"%{PING_PATH}"))
        .values(ping_url=f"{base_url}{PING_PATH}")
    )


def point_demo_buyer_at(host: str, port: int) -> None:
    """``flask demo serve``: the demo's pinged orders ask this very server."""
    _point_demo_orders_at(f"http://{host}:{port}")
    commit()


@contextlib.contextmanager
def demo_buyer_served(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port while the demo's auctions ping it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _now_aware() -> datetime:
    return clock.now().replace(tzinfo=UTC)
