"""Limits on abuse (docs/security.md, "Limits"): how often one caller may sign in, call
the API, submit leads, report conversions, fill a hosted form or click.

Flask-Limiter counts in Redis when ``REDIS_URL`` is set, so that every process shares
one count, and in this process's memory in the embedded mode. Each limit is a list of
windows set in config (``LIMIT_*``, also from the environment), e.g. "5 per minute;
20 per hour": the caller waits for the window that is full. A limited request is
answered 429 with ``Retry-After`` (seconds) and, on the API, the JSON error.

The features key their limits (by API key, webmaster, postback token, account) with
``limit``; clicks are counted apart, outside Flask (exchange.tracking.click_limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import RouteLimit

from exchange.extensions import limiter

# config key -> what it counts; the defaults are in exchange.config.BaseConfig
LIMITS = {
    "LIMIT_SIGN_IN_PER_ACCOUNT": "failed sign-ins per account (email)",
    "LIMIT_SIGN_IN_PER_ADDRESS": "failed sign-ins per IP address",
    "LIMIT_SIGN_UP_PER_ADDRESS": "sign-ups per IP address",
    "LIMIT_MAIL_LINKS_PER_ADDRESS": "confirmation and password links asked for per IP address",
    "LIMIT_API_PER_KEY": "API requests per API key",
    "LIMIT_LEAD_INTAKE_PER_WEBMASTER": "leads, pings and posts submitted per webmaster",
    "LIMIT_POSTBACKS_PER_TOKEN": "conversion postbacks per postback token",
    "LIMIT_HOSTED_FORM_PER_ADDRESS": "hosted form submissions per IP address",
    "LIMIT_CLICKS_PER_ADDRESS": "clicks per IP address, in each process",
}


def limit(name: str, key_func: Callable[[], str], **options) -> RouteLimit:
    """A decorator for views (or blueprints) counting against config ``name``, per ``key_func``.

    Views sharing a name share one count per key."""
    return limiter.shared_limit(
        lambda: current_app.config[name],
        scope=name.lower(),
        key_func=key_func,
        error_message=lambda: f"Too many {LIMITS[name]}: the limit is {current_app.config[name]}.",
        **options,
    )


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.after_request(_retry_after_the_longest_wait)  # runs before Flask-Limiter's, which keeps it


def longest_wait() -> int | None:
    """Seconds until every full window of this request's limits has room again."""
    now = time.time()
    waits = [math.ceil(limit.reset_at - now) for limit in limiter.current_limits if limit.breached]
    return max(1, *waits) if waits else None


def _retry_after_the_longest_wait(response: Response) -> Response:
    wait = longest_wait() if response.status_code == 429 else None
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


def client_address() -> str:
    """The caller's address (the visitor's, behind ``PROXY_HOPS`` proxies)."""
    return request.remote_addr or "unknown"


hosted_form_per_address = limit("LIMIT_HOSTED_FORM_PER_ADDRESS", client_address, methods=["POST"])
