"""Advertiser lead delivery, the pure part: signatures, the answer's decision, URLs, CSV cells."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from types import SimpleNamespace

import pytest

from exchange.delivery.leads import domain as webhook
from exchange.leads.bulk.export import safe_cell
from tests.readme_snippet import verify_delivery_from_readme

SECRET = "whsec_test_secret"


def test_a_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"lead":{"id":1}}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook.signature(SECRET, 1700000000, body) == f"v1={expected}"


def test_the_readme_snippet_accepts_our_signature_and_refuses_any_change():
    verify = verify_delivery_from_readme()
    body = webhook.body_of(webhook.LEAD_EVENT, {"id": 7, "fields": {"name": "Ann"}}, test=False)
    now = int(time.time())
    headers = webhook.signed_headers(SECRET, now, body, webhook.LEAD_EVENT)
    timestamp, signature = headers[webhook.TIMESTAMP_HEADER], headers[webhook.SIGNATURE_HEADER]

    assert verify(SECRET, body, timestamp, signature)
    assert not verify(SECRET, body.replace(b"Ann", b"Bob"), timestamp, signature)
    assert not verify("whsec_other", body, timestamp, signature)
    assert not verify(SECRET, body, str(now + 1), signature)  # the timestamp is signed too
    stale = str(now - 301)
    assert not verify(SECRET, body, stale, webhook.signature(SECRET, now - 301, body))
    future = str(now + 301)
    assert not verify(SECRET, body, future, webhook.signature(SECRET, now + 301, body))
    assert not verify(SECRET, body, "not a number", signature)


def test_our_own_verify_agrees_with_the_readme():
    body = b"{}"
    signature = webhook.signature(SECRET, 1000, body)
    assert webhook.verify(SECRET, body, "1000", signature, now=1100)
    assert not webhook.verify(SECRET, body, "1000", signature, now=1400)
    assert webhook.verify(SECRET, body, "1000", f"v1=deadbeef, {signature}", now=1000)


def test_secrets_are_new_each_time_and_shown_later_only_as_a_hint():
    first, second = webhook.generate_secret(), webhook.generate_secret()
    assert first.startswith("whsec_") and len(first) > 40 and first != second
    assert webhook.secret_hint(first) == "whsec_…" + first[-4:]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"decision": "approve"}', webhook.Decision("approve")),
        (201, b'{"decision": "reject", "reason": " bad phone "}', webhook.Decision("reject", "bad phone")),
        (200, b'{"decision": "reject"}', webhook.Decision("reject")),
        (200, b'{"decision": "reject", "reason": 5}', webhook.Decision("reject")),
        (200, b'{"decision": "maybe"}', webhook.NO_DECISION),
        (200, b'{"decision": "APPROVE"}', webhook.NO_DECISION),
        (200, b'["approve"]', webhook.NO_DECISION),
        (200, b"ok", webhook.NO_DECISION),
        (200, b"", webhook.NO_DECISION),
        (200, b'{"decision": "appro', webhook.NO_DECISION),
        (500, b'{"decision": "approve"}', webhook.NO_DECISION),
        (302, b'{"decision": "approve"}', webhook.NO_DECISION),
        (None, b"", webhook.NO_DECISION),
    ],
)
def test_only_a_2xx_json_decision_decides(status, body, expected):
    assert webhook.parse_decision(status, body) == expected


def test_a_long_reason_is_cut_to_what_a_lead_stores():
    body = json.dumps({"decision": "reject", "reason": "x" * 2000}).encode()
    assert webhook.parse_decision(200, body).reason == "x" * 500


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/leads",
        "/leads",
        "https://example.com/le ads",
        "https://example.com/" + "a" * 2000,
        "https://exämple.com/leads",
        "https://{sub1}.example.com/leads",
        "https://example.com:port/leads",
    ],
)
def test_urls_that_cannot_be_an_endpoint(url):
    assert webhook.url_problem(url)


def test_an_https_url_with_a_query_is_fine():
    assert webhook.url_problem("https://crm.example.com/hooks/leads?source=exchange") is None


def test_the_payload_carries_the_lead_and_only_what_it_has():
    lead = SimpleNamespace(
        id=5, offer_id=2, webmaster_id=3, status="pending", sub1="a", sub2=None, sub3=None, sub4=None,
        sub5="e", fields={"name": "Ann"}, currency="USD", rate_minor=1500,
        created_at=datetime(2026, 1, 15, 12, 0), review_deadline=datetime(2026, 1, 18, 12, 0),
        score=None, temperature=None, findings=[], txid=None, sale_amount_minor=None,
    )  # fmt: skip
    payload = webhook.lead_payload(lead)
    assert (
        payload["created_at"] == "2026-01-15T12:00:00Z"
        and payload["review_deadline"] == "2026-01-18T12:00:00Z"
    )
    assert payload["sub1"] == "a" and payload["sub5"] == "e" and payload["fields"] == {"name": "Ann"}
    assert not {"score", "temperature", "findings", "txid"} & payload.keys()
    scored = webhook.lead_payload(SimpleNamespace(**{**vars(lead), "score": 80, "temperature": "hot",
                                                      "findings": [{"code": "x"}], "txid": "T1",
                                                      "sale_amount_minor": 9900}))  # fmt: skip
    assert (scored["score"], scored["temperature"], scored["txid"], scored["sale_amount_minor"]) == (
        80, "hot", "T1", 9900,
    )  # fmt: skip
    envelope = json.loads(webhook.body_of(webhook.LEAD_EVENT, payload, test=False))
    assert envelope == {"event": "lead.pending", "test": False, "lead": payload}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 202 555 0100", "'+1 202 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-5, "-5"),
        (None, ""),
        (["duplicate", "geo_mismatch"], "duplicate,geo_mismatch"),
        (datetime(2026, 1, 15, 12, 0), "2026-01-15T12:00:00Z"),
    ],
)
def test_csv_cells_that_would_run_as_formulas_get_a_leading_quote(value, cell):
    assert safe_cell(value) == cell
