"""An advertiser's lead delivery: its endpoints (global and per offer) with their signing
secrets, test leads (sent by a job, read back afterwards), and every delivery with its
attempts."""

from __future__ import annotations

from flask import url_for

from exchange.accounts.auth import api_key_required, caller
from exchange.db import commit
from exchange.delivery import sample_sends
from exchange.delivery.leads import domain as webhook
from exchange.delivery.leads.sample import KIND, queue_test_lead
from exchange.delivery.leads.schemas import (
    DeliveryQuerySchema,
    DeliverySettingInSchema,
    DeliverySettingSchema,
    LeadDeliverySchema,
    TestDeliveryInSchema,
)
from exchange.delivery.leads.services import deliveries_of, delivery_of
from exchange.delivery.leads.settings import (
    SavedSetting,
    put_setting,
    remove_setting,
    rotate_secret,
    setting_of,
)
from exchange.delivery.schemas import TestLeadSchema
from exchange.openapi import Blueprint
from exchange.pagination import PageQuerySchema, page_schema, paginate

blp = Blueprint(
    "lead_delivery",
    __name__,
    url_prefix="/api/v1",
    description="Delivery of your leads to your endpoint (advertisers)",
)
URL_RULE = "url: an absolute http(s) URL"  # said in words (exchange/openapi.py)


def _view(offer_id: int | None, saved: SavedSetting | None = None) -> dict:
    setting = saved.setting if saved else setting_of(caller().id, offer_id)
    view = {
        "offer_id": offer_id,
        "url": setting.url if setting else None,
        "secret_hint": webhook.secret_hint(setting.signing_secret) if setting else None,
        "secret_created_at": setting.secret_created_at if setting else None,
        "updated_at": setting.updated_at if setting else None,
    }
    if saved and saved.secret:
        view["signing_secret"] = saved.secret
    return view


@blp.route("/delivery-settings", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, DeliverySettingSchema)
def get_global_setting():
    return _view(None)


@blp.route("/delivery-settings", methods=["PUT"])
@blp.rules(URL_RULE)
@api_key_required("advertiser")
@blp.arguments(DeliverySettingInSchema)
@blp.response(200, DeliverySettingSchema)
def put_global_setting(data: dict):
    """Set your endpoint; the first PUT answers the new signing secret, once."""
    saved = put_setting(caller().id, None, data["url"])
    commit()
    return _view(None, saved)


@blp.route("/delivery-settings", methods=["DELETE"])
@api_key_required("advertiser")
@blp.response(204)
def delete_global_setting():
    remove_setting(caller().id, None)
    commit()


@blp.route("/delivery-settings/rotate-secret", methods=["POST"])
@api_key_required("advertiser")
@blp.response(200, DeliverySettingSchema)
def rotate_global_secret():
    saved = rotate_secret(caller().id, None)
    commit()
    return _view(None, saved)


@blp.route("/offers/<id:offer_id>/delivery-settings", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, DeliverySettingSchema)
def get_offer_setting(offer_id: int):
    return _view(offer_id)


@blp.route("/offers/<id:offer_id>/delivery-settings", methods=["PUT"])
@blp.rules(URL_RULE)
@api_key_required("advertiser")
@blp.arguments(DeliverySettingInSchema)
@blp.response(200, DeliverySettingSchema)
def put_offer_setting(data: dict, offer_id: int):
    """This offer's endpoint, which wins over your global one for its leads."""
    saved = put_setting(caller().id, offer_id, data["url"])
    commit()
    return _view(offer_id, saved)


@blp.route("/offers/<id:offer_id>/delivery-settings", methods=["DELETE"])
@api_key_required("advertiser")
@blp.response(204)
def delete_offer_setting(offer_id: int):
    remove_setting(caller().id, offer_id)
    commit()


@blp.route("/offers/<id:offer_id>/delivery-settings/rotate-secret", methods=["POST"])
@api_key_required("advertiser")
@blp.response(200, DeliverySettingSchema)
def rotate_offer_secret(offer_id: int):
    saved = rotate_secret(caller().id, offer_id)
    commit()
    return _view(offer_id, saved)


@blp.route("/delivery-settings/test", methods=["POST"])
@api_key_required("advertiser")
@blp.arguments(TestDeliveryInSchema, required=False)
@blp.response(202, TestLeadSchema)
def send_test(data: dict):
    """Queue a synthetic lead marked ``"test": true``, signed like a real one, to the endpoint
    a lead of ``offer_id`` (or of no particular offer) would go to. A job sends it once; read
    its answer at the ``Location`` given (``GET /api/v1/delivery-settings/tests/<id>``). A
    decision in your answer is shown, not applied. 409 ``no_delivery_url`` without an
    endpoint, ``busy`` while your previous test is still on its way."""
    sample = queue_test_lead(caller().id, data["offer_id"])
    commit()  # the job leaves now (embedded: it has run when this returns)
    sample = sample_sends.send_of(caller().id, KIND, sample.id)
    return sample, {"Location": url_for(".get_test", test_send_id=sample.id)}


@blp.route("/delivery-settings/tests", methods=["GET"])
@api_key_required("advertiser")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(TestLeadSchema))
def list_tests(args: dict):
    """Your test leads, newest first, each with its state and your endpoint's answer."""
    return paginate(sample_sends.owned(caller().id, KIND), args["page"], args["per_page"])


@blp.route("/delivery-settings/tests/<id:test_send_id>", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, TestLeadSchema)
def get_test(test_send_id: int):
    return sample_sends.send_of(caller().id, KIND, test_send_id)


@blp.route("/deliveries", methods=["GET"])
@api_key_required("advertiser")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, page_schema(LeadDeliverySchema))
def list_deliveries(args: dict):
    """Deliveries of your leads, newest first, each with every attempt made."""
    return paginate(deliveries_of(caller().id, args["lead_id"]), args["page"], args["per_page"])


@blp.route("/deliveries/<id:delivery_id>", methods=["GET"])
@api_key_required("advertiser")
@blp.response(200, LeadDeliverySchema)
def get_delivery(delivery_id: int):
    return delivery_of(caller().id, delivery_id)
