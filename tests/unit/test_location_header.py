"""The fast path's Location header is exactly what werkzeug's iri_to_uri makes of the
landing URL (what the Flask route sends), including for URLs it must rewrite."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from exchange.tracking.fastpath import as_uri

ORIGINS = st.sampled_from(
    [
        "https://landing.example.com",
        "http://landing.example.com:8080",
        "HTTPS://Landing.Example.COM",  # iri_to_uri lowercases these
        "https://user@landing.example.com",
        "https://bücher.example",  # punycode
        "https://[2001:db8::1]",
        "https://landing.example.com:443",
    ]
)
TAIL_CHARACTERS = st.text(
    alphabet=st.sampled_from(list("azAZ09-._~%!$&'()*+,/:;=@?#[]{}<>\"| ^`\\é€\n")), max_size=40
)


@given(ORIGINS, TAIL_CHARACTERS)
def test_the_location_equals_what_iri_to_uri_makes_of_any_url(origin, tail):
    url = f"{origin}/{tail}"
    assert as_uri(url) == iri_to_uri(url)


def test_an_already_encoded_landing_url_is_sent_as_it_is():
    url = "https://landing.example.com/q?cid=AbC-12_x.y&s=%0D%0A%22&t=a%20b#top"
    assert as_uri(url) == url == iri_to_uri(url)


def test_urls_that_need_rewriting_are_rewritten():
    assert as_uri("https://landing.example.com/p?q=é") == "https://landing.example.com/p?q=%C3%A9"
    assert as_uri("https://landing.example.com/p?") == iri_to_uri("https://landing.example.com/p?")
    assert as_uri("https://landing.example.com") == iri_to_uri("https://landing.example.com")
