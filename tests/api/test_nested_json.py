"""A JSON body nested too deeply is a 400 with its own code, on every endpoint, signed in
or not; never a 500 (the parser's, or a check's, RecursionError)."""

from __future__ import annotations

import json

import pytest

from exchange.errors import MAX_JSON_DEPTH
from exchange.text import deeper_than
from tests.factories import auth, make_key, make_user

ABYSS = "[" * 50_000  # deeper than the parser goes


def nested(levels: int) -> str:
    return json.dumps({"fields": _nest(levels - 1)})


def _nest(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/leads", "webmaster"),
        ("/api/v1/offers", "advertiser"),
        ("/api/v1/disputes", "webmaster"),
        ("/postback", None),
    ],
)
@pytest.mark.parametrize("body", [ABYSS, nested(MAX_JSON_DEPTH + 1)], ids=["abyss", "one-too-deep"])
def test_a_body_nested_too_deeply_is_a_400(client, ctx, path, role, body):
    headers = auth(make_key(make_user(role))) if role else {}

    response = client.post(path, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_a_body_as_deep_as_allowed_reaches_the_view(client, ctx):
    key = make_key(make_user("webmaster"))

    response = client.post(
        "/api/v1/leads", data=nested(MAX_JSON_DEPTH), content_type="application/json", headers=auth(key)
    )

    assert response.status_code == 422  # the lead's schema refuses it, not the depth
    assert response.get_json()["error"]["code"] == "validation_error"


def test_deeper_than_counts_lists_and_objects_without_recursion():
    assert not deeper_than({"a": [1, {"b": 2}]}, 3)
    assert deeper_than({"a": [1, {"b": [2]}]}, 3)
    assert not deeper_than("text", 0)
    assert deeper_than(_nest(100_000), 50)  # far past the interpreter's recursion limit
