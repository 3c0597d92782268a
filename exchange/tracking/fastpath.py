"""A WSGI fast path for ``GET /c/<token>``, the busiest URL by far.

Flask's full dispatch (URL matching, the request context, the session,
before- and after-request hooks, Flask-Login, building a ``Response``)
costs more than recording the click does. This middleware records the
click with the route's own ``visit_link`` inside an app context only, and
answers what the route answers, byte for byte: the same 302 page and
headers (the security headers and ``Vary: Cookie`` included, which the app's
``after_request`` and Flask's session add), or the same plain page.
Everything else goes to Flask: other URLs and methods, tokens of an unusual
shape, unknown tokens (their 404 depends on ``Accept``), and errors, which
Flask's error handlers render and log. A visitor over ``LIMIT_CLICKS_PER_ADDRESS``
is answered 429 here, before anything is read or recorded (exchange.tracking.click_limit).

``create_app`` installs it inside ``ProxyFix``, so the visitor's address is
taken from X-Forwarded-For when ``PROXY_HOPS`` is set. Hooks added with
``before_request``/``after_request`` do not run for clicks answered here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, g
from markupsafe import escape
from werkzeug.urls import iri_to_uri

from exchange.logs import REQUEST_ID_HEADER, request_id_from
from exchange.metrics import observe_request
from exchange.security_headers import security_headers
from exchange.tracking.click_limit import ClickLimit
from exchange.tracking.links import link_target
from exchange.tracking.views import NOT_TAKING_TRAFFIC, visit_link

CLICK_ENDPOINT = "tracking.click"  # the route's endpoint: its requests are counted as one

# Link tokens are URL-safe base64 (``secrets.token_urlsafe``); others take Flask's path.
_CLICK_PATH = re.compile(r"/c/([A-Za-z0-9_-]{1,64})")

# werkzeug.utils.redirect's page, which the route answers.
_REDIRECT_PAGE = (
    "<!doctype html>\n"
    "<html lang=en>\n"
    "<title>Redirecting...</title>\n"
    "<h1>Redirecting...</h1>\n"
    "<p>You should be redirected automatically to the target URL: "
    '<a href="{0}">{0}</a>. If not, click the link.\n'
)
_PLAIN_PAGE = NOT_TAKING_TRAFFIC.encode()
_PLAIN_HEADERS = (
    ("Content-Type", "text/plain"),
    ("Content-Length", str(len(_PLAIN_PAGE))),
)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

# After the origin: a path, then a non-empty query, then a non-empty fragment, in characters
# that werkzeug's iri_to_uri leaves as they are (what filled landing URLs are made of).
_URI_TAIL = re.compile(
    r"[A-Za-z0-9\-._~%!$&'()*+,/:;=@]*"
    r"(\?[A-Za-z0-9\-._~%!$&'()*+,/:;=@?]+)?"
    r"(#[A-Za-z0-9\-._~%!$&'()*+,/:;=@?#]+)?"
)


def as_uri(location: str) -> str:
    """``iri_to_uri(location)``, the Location header the route sends, without its cost
    (a third of a click's) when the URL is already in that form: its origin, checked once
    per origin, and the rest made only of characters it leaves alone."""
    scheme, separator, rest = location.partition("://")
    host, slash, tail = rest.partition("/")
    if separator and slash and _is_canonical_origin(f"{scheme}://{host}") and _URI_TAIL.fullmatch(tail):
        return location
    return iri_to_uri(location)


@lru_cache(maxsize=1024)
def _is_canonical_origin(origin: str) -> bool:
    return iri_to_uri(origin + "/") == origin + "/"


class ClickFastPath:
    def __init__(self, app: Flask, wsgi_app: WSGIApp):
        self.app = app
        self.wsgi_app = wsgi_app  # Flask's own dispatch, for everything not answered here
        self.security = security_headers(app)  # what the app's after_request adds to the route's
        enabled = app.config["RATELIMIT_ENABLED"]
        self.limit = ClickLimit(app.config["LIMIT_CLICKS_PER_ADDRESS"]) if enabled else None
        self.counted = app.config["METRICS_ENABLED"]  # Flask's hooks do not see these answers

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        match = _CLICK_PATH.fullmatch(environ.get("PATH_INFO") or "")
        if match is None or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        wait = self.limit and self.limit.retry_after(environ.get("REMOTE_ADDR") or "")
        if wait:
            self._observe(429, started)
            return self._too_many(wait, start_response)
        app = self.app
        outcome = None
        with app.app_context():
            try:
                target = link_target(match.group(1), app.config["LINK_CACHE_SECONDS"])
                if target is not None:
                    outcome = visit_link(target, app.request_class(environ))
            except Exception as error:
                return self._error_response(environ, error)(environ, start_response)
        if outcome is None:
            return self.wsgi_app(environ, start_response)  # an unknown link: Flask's 404 page
        # the request's id, returned as the app returns it (exchange/logs.py)
        request_id = (REQUEST_ID_HEADER, request_id_from(environ.get("HTTP_X_REQUEST_ID", "")))
        location = outcome.redirect_to
        if location is None:
            start_response("200 OK", [*_PLAIN_HEADERS, *self.security, request_id, ("Vary", "Cookie")])
            self._observe(200, started)
            return [_PLAIN_PAGE]
        page = _REDIRECT_PAGE.format(escape(location)).encode()
        start_response(
            "302 FOUND",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))),
                ("Location", as_uri(location)),
                ("Cache-Control", "no-store"),
                *self.security,
                request_id,
                ("Vary", "Cookie"),
            ],
        )
        self._observe(302, started)
        return [page]

    def _observe(self, status: int, started: float) -> None:
        if self.counted:
            observe_request(CLICK_ENDPOINT, "GET", status, time.perf_counter() - started)

    def _too_many(self, wait: int, start_response: Callable) -> list[bytes]:
        """Over ``LIMIT_CLICKS_PER_ADDRESS``: a 429, no click recorded, no redirect."""
        page = f"Too many clicks from your address. Try again in {wait} seconds.\n".encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(page)))]
        start_response("429 TOO MANY REQUESTS", [*headers, ("Retry-After", str(wait)), *self.security])
        return [page]

    def _error_response(self, environ: dict, error: Exception):
        """What Flask answers when the view raises ``error``: its error handlers, which log it."""
        app = self.app
        with app.request_context(environ):
            g.request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
            try:
                return app.finalize_request(app.handle_user_exception(error))
            except Exception as unhandled:
                return app.handle_exception(unhandled)
