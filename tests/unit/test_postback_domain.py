"""Webmaster postbacks, the pure part: macros, encoding, status names, the retry schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.delivery.domain import (
    BACKOFF_SECONDS,
    DELIVERED,
    FAILED,
    MAX_ATTEMPTS,
    PENDING,
    after_attempt,
    excerpt,
)
from exchange.delivery.postbacks.domain import (
    POSTBACK_MACROS,
    LeadFacts,
    macro_values,
    major_units,
    postback_url,
    status_map_problems,
    template_problem,
    tracker_status,
    unknown_macros,
)

ALL = "https://tr.example.com/pb?" + "&".join(f"{m}={{{m}}}" for m in POSTBACK_MACROS)
FACTS = LeadFacts(
    lead_id=42,
    offer_id=7,
    status="rejected",
    click_id="AQAAAAEAAAAC.sig",
    subs=("s1", None, "", "s4", "s5"),
    payout_minor=1000,
    currency="USD",
    reason_codes=("duplicate", "geo_mismatch"),
)


def query(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_every_macro_is_filled():
    assert query(postback_url(ALL, FACTS, {})) == {
        "click_id": "AQAAAAEAAAAC.sig",
        "sub1": "s1",
        "sub2": "",
        "sub3": "",
        "sub4": "s4",
        "sub5": "s5",
        "lead_id": "42",
        "offer_id": "7",
        "status": "rejected",
        "payout": "10.00",
        "currency": "USD",
        "reason": "duplicate,geo_mismatch",
    }


def test_a_lead_not_yet_priced_has_an_empty_payout_and_currency():
    facts = LeadFacts(lead_id=1, offer_id=2, status="received")
    url = postback_url("https://tr.example.com/?p={payout}&c={currency}&r={reason}&k={click_id}", facts, {})
    assert url == "https://tr.example.com/?p=&c=&r=&k="


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1000, "USD", "10.00"),
        (5, "EUR", "0.05"),
        (500, "JPY", "500"),
        (1234, "KWD", "1.234"),
        (0, "USD", "0.00"),
    ],
)
def test_the_payout_is_written_in_major_units(amount, currency, text):
    assert major_units(amount, currency) == text


@pytest.mark.parametrize(
    "hostile",
    [
        "%0d%0aSet-Cookie: a=1",
        "\r\nX-Injected: 1",
        "a\nb",
        "\"'><script>alert(1)</script>",
        "1&status=approved&payout=999",
        "#fragment",
        "/../../admin?x=1",
        "{status}",
        "x" * 5000,
        "тест ünïcode 🙂",
        "\x00\x07",
    ],
)
def test_hostile_sub_values_are_url_encoded_and_come_back_unchanged(hostile):
    facts = LeadFacts(lead_id=1, offer_id=2, status="pending", subs=(hostile, None, None, None, None))
    url = postback_url("https://tr.example.com/pb?s={sub1}&status={status}", facts, {})
    parts = urlsplit(url)
    assert parts.hostname == "tr.example.com" and parts.path == "/pb" and not parts.fragment
    assert url.isascii() and url.isprintable() and not any(ch in url for ch in " \"'<>\r\n")
    assert query(url) == {"s": hostile, "status": "pending"}  # one parameter, status untouched


def test_an_already_encoded_line_break_is_encoded_again_never_decoded():
    facts = LeadFacts(lead_id=1, offer_id=2, status="pending", subs=("%0d%0a", None, None, None, None))
    assert (
        postback_url("https://tr.example.com/?s={sub1}", facts, {}) == "https://tr.example.com/?s=%250d%250a"
    )


@settings(max_examples=200, deadline=None)
@given(
    subs=st.tuples(*(st.text() | st.none() for _ in range(5))),
    reasons=st.lists(st.text(min_size=1), max_size=3),
    mapped=st.text(min_size=1),
)
def test_no_value_can_move_the_host_or_add_a_parameter(subs, reasons, mapped):
    facts = LeadFacts(lead_id=1, offer_id=2, status="approved", subs=subs, reason_codes=tuple(reasons))
    url = postback_url(ALL, facts, {"approved": mapped})
    parts = urlsplit(url)
    assert parts.hostname == "tr.example.com" and parts.path == "/pb"
    assert not any(ch in url for ch in "\r\n\t ")
    pairs = parts.query.split("&")
    assert [pair.split("=")[0] for pair in pairs] == list(POSTBACK_MACROS)
    assert unquote(pairs[POSTBACK_MACROS.index("status")].split("=")[1]) == mapped


# -- status names ----------------------------------------------------------------------------------


def test_a_mapped_status_uses_the_trackers_name_and_an_unmapped_one_keeps_ours():
    status_map = {"approved": "sale", "rejected": "rejected_by_network"}
    assert tracker_status("approved", status_map) == "sale"
    assert tracker_status("pending", status_map) == "pending"
    values = macro_values(FACTS, status_map)
    assert values["status"] == "rejected_by_network"


@pytest.mark.parametrize(
    ("status_map", "problem"),
    [
        ({"approved": "sale"}, None),
        ({"aproved": "sale"}, "'aproved' is not a lead status"),
        ({"approved": ""}, "approved: a name of 1 to 64 characters"),
        ({"approved": " "}, "approved: a name of 1 to 64 characters"),
        ({"approved": "x" * 65}, "approved: a name of 1 to 64 characters"),
        ({"approved": 3}, "approved: a name of 1 to 64 characters"),
    ],
)
def test_status_maps_name_our_statuses_only(status_map, problem):
    problems = status_map_problems(status_map)
    assert problems[0].startswith(problem) if problem else problems == []


# -- templates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        ALL,
        "http://tracker.example.net/postback",
        "https://t.example.com:8443/{click_id}/{status}?amount={payout}",
        "https://keitaro.example.com/7d1e2a3/postback?subid={click_id}&status={status}&payout={payout}",
    ],
)
def test_good_templates_are_accepted(template):
    assert template_problem(template) is None


def test_unknown_macros_are_refused_by_name():
    template = "https://tr.example.com/?a={clickid}&b={sub6}&c={sub1}&d={clickid}"
    assert unknown_macros(template) == ["clickid", "sub6"]
    assert template_problem(template) == "known macros only; unknown: {clickid}, {sub6}"


@pytest.mark.parametrize(
    "template",
    [
        "https://{sub1}/pb",
        "https://tr.example.com{sub1}/pb",
        "https://{click_id}.tr.example.com/pb",
        "https://user:{sub1}@tr.example.com/pb",
    ],
)
def test_a_macro_in_the_host_is_refused(template):
    assert "host is fixed" in template_problem(template)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("ftp://tr.example.com/", "an absolute http(s) URL"),
        ("/relative?s={sub1}", "an absolute http(s) URL"),
        ("https://tr.example.com/a b", "a URL without spaces or line breaks"),
        ("https://tr.example.com/\r\nX: y", "a URL without spaces or line breaks"),
        ("https://tr.example.com/ünï", "a URL of printable ASCII characters (percent-encode anything else)"),
        ("https://tr.example.com/" + "x" * 2000, "a URL of at most 2000 characters"),
    ],
)
def test_other_bad_templates_are_refused(template, problem):
    assert template_problem(template) == problem


# -- retries ---------------------------------------------------------------------------------------

AT = datetime(2026, 1, 15, 12, 0)


def test_a_success_delivers():
    for attempts in (1, MAX_ATTEMPTS):
        outcome = after_attempt(attempts, True, AT)
        assert (outcome.state, outcome.next_attempt_at) == (DELIVERED, None)


@pytest.mark.parametrize("attempts", range(1, MAX_ATTEMPTS))
def test_a_failure_waits_longer_each_time(attempts):
    outcome = after_attempt(attempts, False, AT)
    assert outcome.state == PENDING
    assert outcome.next_attempt_at == AT + timedelta(seconds=BACKOFF_SECONDS[attempts - 1])


def test_the_schedule_is_30s_2m_10m_1h_6h_then_failed():
    assert BACKOFF_SECONDS == (30, 120, 600, 3600, 21600)
    assert after_attempt(MAX_ATTEMPTS, False, AT).state == FAILED
    assert after_attempt(MAX_ATTEMPTS, False, AT).next_attempt_at is None


def test_a_response_excerpt_is_short_storable_text():
    assert excerpt(b"\x00ok\xff" + b"y" * 1000) == "\ufffdok\ufffd" + "y" * 496
