"""Security headers on every response: a Content-Security-Policy that lets a page run only
the app's own scripts and styles (a view may allow more for itself: ``allow_sources``, as
the card top-up does for Stripe.js), never framed, no MIME sniffing, a referrer that
leaves the site without its path, and HSTS in production (docs/security.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # the layout's empty icon, the stylesheet's inline SVGs
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
HSTS = "max-age=31536000; includeSubDomains"


def allow_sources(directive: str, *urls: str) -> None:
    """Let this response's page also use the origins of ``urls`` for ``directive``."""
    extra = g.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(origin(url) for url in urls if url)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def policy_text(extra: dict[str, list[str]]) -> str:
    directives = []
    for name, sources in POLICY.items():
        added = [source for source in extra.get(name, []) if source not in sources]
        if added and sources == ["'none'"]:
            sources = []
        directives.append(f"{name} {' '.join(dict.fromkeys([*sources, *added]))}")
    return "; ".join(directives)


def security_headers(app: Flask, extra: dict[str, list[str]] | None = None) -> list[tuple[str, str]]:
    """The headers, in order (the click fast path answers them too, as the route would)."""
    headers = [
        ("Content-Security-Policy", policy_text(extra or {})),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),  # frame-ancestors, for browsers older than CSP 2
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if app.config["EXCHANGE_ENV"] == "production":
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in security_headers(app, g.get("csp_extra")):
            response.headers.setdefault(name, value)
        return response
