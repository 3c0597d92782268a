"""Offline IP-to-country lookup for clicks and leads.

The rest of the project sees only ``country_of`` and ``data_version``; the
package behind them is used nowhere else, so the data source can be swapped
here alone.

The data is the ``iptocc`` wheel, which embeds the five Regional Internet
Registries' delegated statistics: a new package version is published each
night the registries change something, and ours moves when the pin in
requirements.txt does. It gives the country an address block is
*registered* to, which agrees with commercial geolocation for about 95% of
IPv4 addresses: right for routing and reporting, not proof of where a
person was.

Pure: no Flask, no SQLAlchemy, no network, and nothing loaded at import.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from functools import cache, lru_cache

_PACKAGE = "iptocc"

# Codes the registries use for regions, not countries.
_NOT_COUNTRIES = frozenset({"EU", "AP"})

_lookup: Callable[[str], str | None] | None = None
_lookup_lock = threading.Lock()


def country_of(ip: str | None) -> str | None:
    """The upper-case ISO 3166-1 alpha-2 code of the country ``ip`` is registered to.

    None for None, anything that is not an IP address, addresses that are
    not globally routable (private, loopback, link-local, shared, reserved,
    documentation, multicast) and addresses in no registry's data. Never
    raises on bad input. Surrounding whitespace is ignored, and an
    IPv4-mapped IPv6 address (``::ffff:8.8.8.8``) counts as its IPv4 address.
    """
    address = _public_address(ip)
    if address is None:
        return None
    code = _get_lookup()(address)
    if not isinstance(code, str) or len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    code = code.upper()
    return None if code in _NOT_COUNTRIES else code


@cache
def data_version() -> str:
    """Which data is in use, e.g. ``iptocc 3.3.170 (RIR delegated stats, built 2026-10-27)``."""
    # Imported here: only docs and ops ask, and importlib.metadata costs ~40 ms to import.
    import json
    from importlib import metadata

    try:
        dist = metadata.distribution(_PACKAGE)
    except metadata.PackageNotFoundError:
        return f"{_PACKAGE} (not installed)"
    # The wheel carries no data date of its own; its SBOM's timestamp is the build, which
    # follows the registries' files by a few hours.
    try:
        sbom = json.loads(dist.read_text("sboms/iptocc-py.cyclonedx.json") or "{}")
        built = f", built {sbom['metadata']['timestamp'][:10]}"
    except (ValueError, KeyError, TypeError):
        built = ""
    return f"{_PACKAGE} {dist.version} (RIR delegated stats{built})"


def _public_address(ip: object) -> str | None:
    """``ip`` in canonical form if it is a globally routable address, else None."""
    if not isinstance(ip, str):
        return None
    if len(ip) > _CACHED_LENGTH:
        return _parse_public_address(ip)
    return _cached_public_address(ip)


def _parse_public_address(ip: str) -> str | None:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return None
    return str(address)


# Parsing an address costs more than looking its country up, and the same
# visitors come back: remember the answers for the most recent addresses.
_CACHED_LENGTH = 64
_cached_public_address = lru_cache(maxsize=16_384)(_parse_public_address)


def _get_lookup() -> Callable[[str], str | None]:
    global _lookup
    if _lookup is None:
        with _lookup_lock:
            if _lookup is None:
                _lookup = _load()
    return _lookup


def _load() -> Callable[[str], str | None]:
    """The lookup function; importing the package maps its embedded tables (under 1 ms)."""
    from iptocc import country_code

    return country_code
