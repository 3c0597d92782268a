"""The offer catalog (search and filters), one offer's page with its terms, the tracking
link and its builder, the hosted form's link, and joining (or applying to) an offer.

Offers reach the templates only as their catalog view (``offer_view``): payouts, never
the advertiser's rate or the margin."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_login import current_user

from exchange.accounts.views import role_required
from exchange.offers.api import offer_view, participation_view
from exchange.offers.domain import TRAFFIC_SOURCES
from exchange.offers.models import Participation
from exchange.offers.pricing import MODELS
from exchange.offers.services import join_offer, offer_visible_to, offers_visible_to, participations_of
from webmasters.views.common import acted, bp

SUBS = ("sub1", "sub2", "sub3", "sub4", "sub5")
MAX_SUB_LENGTH = 255  # what a click keeps of each (exchange/tracking/models.py)
JOINED = {"active": "Joined", "pending": "Applied: waiting for approval", "invited": "Invited"}


def _filters() -> dict:
    args = request.args
    return {
        "q": args.get("q", "").strip()[:200],
        "model": args.get("model", "") if args.get("model") in MODELS else "",
        "country": args.get("country", "").strip().upper()[:2],
        "source": args.get("source", "") if args.get("source") in TRAFFIC_SOURCES else "",
    }


def _matches(view: dict, filters: dict) -> bool:
    words = filters["q"].casefold()
    if words and words not in f"{view['name']} {view['description']}".casefold():
        return False
    if filters["model"] and view["model"] != filters["model"]:
        return False
    allowed = view["allowed_countries"]
    if filters["country"] and allowed and filters["country"] not in allowed:
        return False  # an offer naming no country takes any
    sources = view["traffic_sources"]
    return not (filters["source"] and sources and filters["source"] not in sources)


@bp.get("/offers")
@role_required("webmaster")
def catalog():
    filters = _filters()
    joined = {p.offer_id: p for p in participations_of(current_user.id)}
    views = [offer_view(current_user, offer) for offer in offers_visible_to(current_user)]
    return render_template(
        "webmaster_offers.html",
        offers=[(view, joined.get(view["id"])) for view in views if _matches(view, filters)],
        filters=filters,
        models=MODELS,
        sources=TRAFFIC_SOURCES,
        joined_names=JOINED,
    )


@bp.get("/offers/<id:offer_id>")
@role_required("webmaster")
def offer_page(offer_id: int):
    offer = offer_visible_to(current_user, offer_id)  # 404 for an offer it may not see
    participation = _participation(offer_id)
    link = participation_view(participation) if participation else None
    subs = {name: request.args.get(name, "")[:MAX_SUB_LENGTH] for name in SUBS}
    built = hosted_form = None
    query = urlencode({name: value for name, value in subs.items() if value})
    if link and participation.status == "active":
        built = link["tracking_link"] + (f"?{query}" if query else "")
    if participation and participation.status == "active" and offer.model == "cpl":
        # A click first, whose landing is the form: the lead is tied to its click and sub ids.
        hosted_form = url_for("forms.form_click", token=participation.token, _external=True)
        hosted_form += f"?{query}" if query else ""
    return render_template(
        "webmaster_offer.html",
        offer=offer_view(current_user, offer),
        participation=link,
        joined_names=JOINED,
        subs=subs,
        built=built,
        hosted_form=hosted_form,
    )


@bp.post("/offers/<id:offer_id>/join")
@role_required("webmaster")
def join(offer_id: int):
    sources = [source for source in request.form.getlist("traffic_sources") if source][:20]

    def joined() -> str:
        participation = join_offer(current_user.id, offer_id, sources)
        return f"Offer {offer_id}: {JOINED.get(participation.status, participation.status)}."

    return acted(joined, url_for(".offer_page", offer_id=offer_id))


def _participation(offer_id: int) -> Participation | None:
    return next((p for p in participations_of(current_user.id) if p.offer_id == offer_id), None)
