"""Offer rules: landing URL macros, landing URL checks, field lists."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.offers.domain import (
    FIELD_TYPES,
    LANDING_MACROS,
    field_list_problems,
    fill_landing_url,
    landing_url_problem,
)

TEMPLATE = "https://land.example.com/go?" + "&".join(f"{m}={{{m}}}" for m in LANDING_MACROS)


# -- fill_landing_url -------------------------------------------------------------------------------


def test_every_macro_is_substituted():
    values = {macro: f"v-{macro}" for macro in LANDING_MACROS}
    url = fill_landing_url(TEMPLATE, values)
    assert "{" not in url
    assert parse_qs(urlsplit(url).query) == {macro: [f"v-{macro}"] for macro in LANDING_MACROS}


def test_integers_are_substituted_as_text():
    url = fill_landing_url("https://x.example/{offer_id}/{webmaster_id}", {"offer_id": 12, "webmaster_id": 0})
    assert url == "https://x.example/12/0"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a b", "a%20b"),
        ("a&b", "a%26b"),
        ("a=b", "a%3Db"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("a@b:c", "a%40b%3Ac"),
        ("50%", "50%25"),
        ("{sub2}", "%7Bsub2%7D"),
        ("é", "%C3%A9"),  # UTF-8, then percent-encoded
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("a\r\nLocation: https://evil.example", "a%0D%0ALocation%3A%20https%3A%2F%2Fevil.example"),
        ("tab\there", "tab%09here"),
        ("safe-_.~AZaz09", "safe-_.~AZaz09"),  # unreserved characters stay as they are
    ],
)
def test_values_are_url_encoded(value, encoded):
    assert (
        fill_landing_url("https://x.example/?s={sub1}", {"sub1": value}) == f"https://x.example/?s={encoded}"
    )


def test_a_value_cannot_add_query_parameters():
    url = fill_landing_url("https://x.example/?a={sub1}&b={sub2}", {"sub1": "1&b=evil", "sub2": "2"})
    assert parse_qs(urlsplit(url).query) == {"a": ["1&b=evil"], "b": ["2"]}


def test_a_value_that_looks_like_a_macro_is_not_substituted_again():
    url = fill_landing_url("https://x.example/?a={sub1}&b={sub2}", {"sub1": "{sub2}", "sub2": "two"})
    assert url == "https://x.example/?a=%7Bsub2%7D&b=two"


@pytest.mark.parametrize("values", [{}, {"sub1": None}, {"sub1": ""}])
def test_missing_values_become_empty(values):
    assert fill_landing_url("https://x.example/?s={sub1}&t=1", values) == "https://x.example/?s=&t=1"


def test_a_macro_used_twice_is_filled_twice():
    assert fill_landing_url("https://x.example/{sub1}?again={sub1}", {"sub1": "a b"}) == (
        "https://x.example/a%20b?again=a%20b"
    )


@pytest.mark.parametrize("token", ["{sub6}", "{clickid}", "{SUB1}", "{ sub1 }", "{}", "{sub1"])
def test_unknown_placeholders_are_left_alone(token):
    template = f"https://x.example/?u={token}"
    assert fill_landing_url(template, {"sub1": "x", "sub6": "y", "clickid": "z"}) == template


def test_a_template_without_placeholders_is_returned_unchanged():
    template = "https://x.example/landing?utm_source=lx"
    assert fill_landing_url(template, {"sub1": "x"}) == template


@pytest.mark.parametrize(
    "template",
    [
        TEMPLATE,
        "https://land.example.com/{sub1}",
        "https://land.example.com/?{sub1}",
        "https://land.example.com:8443/{sub1}/{sub2}?q={sub3}#{sub4}",
        "http://user@land.example.com/x?a={click_id}&b={offer_id}{webmaster_id}",
    ],
)
@settings(max_examples=200, deadline=None)
@given(values=st.dictionaries(st.sampled_from(LANDING_MACROS), st.text() | st.integers() | st.none()))
def test_the_host_never_changes_whatever_the_values(template, values):
    before = urlsplit(template)
    after = urlsplit(fill_landing_url(template, values))
    assert after.scheme == before.scheme
    assert after.hostname == before.hostname
    assert after.port == before.port
    assert after.username == before.username
    assert after.path.startswith(before.path.split("{")[0])


@pytest.mark.parametrize(
    ("template", "evil"),
    [
        ("https://land.example.com{sub1}/offer", ".evil.example"),  # land.example.com.evil.example
        ("https://{sub1}/offer", "evil.example"),
    ],
)
def test_a_template_that_lets_a_value_choose_the_host_is_refused(template, evil):
    # fill_landing_url: "Only the offer's stored template decides where the visitor goes." A macro in
    # the authority lets a webmaster's sub1 (or anyone who crafts a click) pick the redirect's host.
    assert urlsplit(fill_landing_url(template, {"sub1": evil})).hostname.endswith("evil.example")
    assert landing_url_problem(template) is not None


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_filled_values_never_contain_raw_line_breaks_or_spaces(value):
    url = fill_landing_url("https://x.example/?s={sub1}", {"sub1": value})
    assert not any(ch in url for ch in "\r\n\t ")
    assert url.isascii()
    assert unquote(urlsplit(url).query.removeprefix("s=")) == value


# -- landing_url_problem ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://land.example.com/",
        "http://land.example.com",
        "https://land.example.com/go?c={click_id}&s={sub1}",
        "https://land.example.com:8443/x#frag",
    ],
)
def test_absolute_http_urls_are_accepted(url):
    assert landing_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://land.example.com/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "mailto:a@example.com",
        "/relative/path",
        "land.example.com/path",
        "//land.example.com/path",  # scheme-relative
        "https://",
        "https:///path-only",
        "",
    ],
)
def test_non_http_or_relative_urls_are_refused(url):
    assert landing_url_problem(url) == "an absolute http(s) URL"


@pytest.mark.parametrize(
    "url",
    [
        "https://land.example.com/a b",
        "https://land.example.com/\r\nSet-Cookie: x=1",
        "https://land.example.com/a\tb",
        "https://land.example.com/\n",
        " https://land.example.com/",
        "https://land.example.com/ ",
    ],
)
def test_urls_with_whitespace_are_refused(url):
    assert landing_url_problem(url) == "a URL without spaces or line breaks"


# -- field_list_problems ---------------------------------------------------------------------------


def test_a_good_field_list_has_no_problems():
    fields = [{"name": f"f_{t}", "type": t, "required": True} for t in FIELD_TYPES]
    assert field_list_problems(fields) == []


def test_an_empty_field_list_has_no_problems_of_its_own():
    assert field_list_problems([]) == []


@pytest.mark.parametrize(
    "name", ["", "first name", "e-mail", "a.b", "x" * 41, "naïve", "Meta", "Name", "_private", "1st"]
)
def test_field_names_are_lower_case_ascii_starting_with_a_letter_up_to_40(name):
    """Lower-case ASCII only: no clash with the generated schema's ``Meta``,
    no look-alike Unicode names."""
    [problem] = field_list_problems([{"name": name, "type": "string"}])
    assert problem.startswith("field 0: a name of a-z")


def test_a_field_name_of_40_characters_is_accepted():
    assert field_list_problems([{"name": "x" * 40, "type": "string"}]) == []


def test_a_missing_name_is_a_problem():
    assert len(field_list_problems([{"type": "string"}])) == 1


def test_a_field_name_may_appear_only_once():
    problems = field_list_problems([{"name": "email", "type": "email"}, {"name": "email", "type": "string"}])
    assert problems == ["field 1: 'email' appears twice"]


@pytest.mark.parametrize("field_type", ["text", "int", "", None, "EMAIL"])
def test_a_field_has_a_known_type(field_type):
    [problem] = field_list_problems([{"name": "a", "type": field_type}])
    assert problem.startswith("field 0: type must be one of")


def test_problems_name_the_field_they_concern_and_all_are_reported():
    problems = field_list_problems(
        [
            {"name": "ok", "type": "string"},
            {"name": "bad name", "type": "nope"},
            {"name": "ok", "type": "string"},
        ]
    )
    assert [p.split(":")[0] for p in problems] == ["field 1", "field 1", "field 2"]


def test_pick_landing_follows_the_weights_at_their_boundaries():
    from exchange.offers.domain import pick_landing

    rotation = [{"url": "a", "weight": 3}, {"url": "b", "weight": 1}]
    assert pick_landing("default", rotation, 0.0) == "a"
    assert pick_landing("default", rotation, 0.7499) == "a"
    assert pick_landing("default", rotation, 0.75) == "b"
    assert pick_landing("default", rotation, 0.9999) == "b"
    assert pick_landing("default", [], 0.5) == "default"


@pytest.mark.parametrize(
    ("visibility", "status", "outcome"),
    [
        ("public", None, "active"),
        ("approval", None, "pending"),
        ("private", None, None),  # invisible: refused before this table is read
        ("private", "invited", "active"),
        ("public", "declined", None),
        ("approval", "banned", None),
        ("approval", "pending", None),
    ],
)
def test_joining_makes_of_a_participation_what_the_visibility_allows(visibility, status, outcome):
    from exchange.offers.domain import JOIN_OUTCOME

    assert JOIN_OUTCOME.get((visibility, status)) == outcome
