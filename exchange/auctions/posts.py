"""What is posted to a buyer for each sale: the full lead, its consent, the sale."""

from __future__ import annotations

import json

from sqlalchemy import select

from exchange import clock
from exchange.auctions.calls import PostRequest
from exchange.buying.models import BuyOrder, Sale
from exchange.buying.sales import sold_of_text
from exchange.delivery.leads.settings import setting_of
from exchange.extensions import db
from exchange.leads.models import Consent, Lead
from exchange.verticals.models import Vertical


def post_requests(sale_ids: list[int]) -> list[PostRequest]:
    requests = []
    for sale_id in sale_ids:
        sale = db.session.get(Sale, sale_id)
        setting = setting_of(sale.buyer_id, None)  # the buyer's own endpoint, not an offer's
        if setting is None:  # removed since the sale was made: the buyer pulls it by API
            sale.post_status = "none"
            continue
        order = db.session.get(BuyOrder, sale.buy_order_id) if sale.buy_order_id else None
        url = (order.post_url if order else None) or setting.url
        requests.append(
            PostRequest(sale.id, url, setting.signing_secret, json.dumps(sale_body(sale)).encode())
        )
    return requests


def sale_body(sale: Sale) -> dict:
    lead = db.session.get(Lead, sale.lead_id)
    vertical = db.session.get(Vertical, sale.vertical_id)
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == lead.id))
    return {
        "event": "exchange.sale",
        "sale": {
            "id": sale.id,
            "buy_order_id": sale.buy_order_id,
            "price_minor": sale.price_minor,
            "currency": sale.currency,
            "exclusive": sale.exclusive,
            "sold_of": sold_of_text(sale, vertical),
        },
        "lead": {
            "id": lead.id,
            "vertical_id": vertical.id,
            "vertical": vertical.name,
            "fields": lead.fields,
            "country": lead.country,
            "score": lead.score,
            "temperature": lead.temperature,
            "received_at": clock.isoformat(lead.created_at),
            "consent": _consent(consent),
        },
    }


def _consent(consent: Consent | None) -> dict | None:
    if consent is None:
        return None
    return {
        "text": consent.text,
        "given_at": clock.isoformat(consent.given_at),
        "page_url": consent.page_url,
        "ip": consent.ip,
        "certificate": consent.certificate,
    }
