"""Words instead of codes on the pages (issue 20, point 2): a code is shown as its words
with its explanation on hover, every code is explained at /help/words, and a lead won back
on appeal says it was reinstated, not the rejection that was undone."""

from __future__ import annotations

from html import unescape

from tests.api.test_advertiser_pages import page, signed_in
from tests.api.test_disputes import Market


def test_the_help_page_explains_every_kind_of_word_to_anyone(app, client, ctx):
    text = unescape(page(app, client, "/help/words"))

    assert "Why a lead was rejected or flagged" in text and "The ledger's checks" in text
    assert "Wrong country <small><code>geo_mismatch</code></small>" in text
    assert "The lead's country, its IP's or its phone's is not one the offer accepts." in text


def test_a_rejected_leads_reason_is_its_words_with_the_explanation_on_hover(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    signed_in(app, client, market.advertiser)

    text = unescape(page(app, client, f"/advertiser/leads/{lead_id}"))

    assert (
        '<abbr title="The advertiser rejected the lead during its review window." '
        'data-code="advertiser_rejected">Rejected by the advertiser</abbr>'
    ) in text
    assert 'href="/help/words"' in text


def test_a_lead_won_on_appeal_says_it_was_reinstated_not_its_old_rejection(app, client, ctx):
    market = Market(client)
    lead_id = market.rejected_lead()
    dispute = market.appeal(lead_id)
    market.contest(market.adv, dispute["id"])
    market.decide(dispute["id"], "overturn")
    assert market.lead(lead_id)["reason_codes"] == ["advertiser_rejected"], "the API keeps the codes"
    signed_in(app, client, market.advertiser)

    for path in (f"/advertiser/leads/{lead_id}", "/advertiser/leads"):
        text = unescape(page(app, client, path))
        assert 'data-code="reinstate">Reinstated on appeal</abbr>' in text, path
        assert "Rejected by the advertiser" not in text, path
    signed_in(app, client, market.webmaster)
    text = unescape(page(app, client, "/webmaster/leads"))
    assert "Reinstated on appeal" in text and "Rejected by the advertiser" not in text
