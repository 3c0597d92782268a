"""Sending one outbound call over HTTP with the standard library. No Flask, no database.

A webmaster postback (a GET) or an advertiser lead delivery (a signed JSON POST):
one request with a timeout, no redirects followed, no proxies from the environment,
and (unless allowed) no connection to a loopback, private, link-local or
otherwise reserved address. The host is resolved once, every address it resolves to
is checked (one that is not public refuses the target), and the socket connects to
a checked address only: no second resolution, so a name that answers a public
address to the check and a private one to the connection cannot slip through. A
refused target is refused before any packet leaves, always with the same message, so
the attempt log cannot tell which internal addresses or ports answer.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from exchange.delivery.domain import RESPONSE_EXCERPT_CHARS, excerpt

USER_AGENT = "lead-exchange-postback/1"
_READ_BYTES = RESPONSE_EXCERPT_CHARS * 4  # enough for 500 characters of UTF-8
POSTBACK_SETTING = "POSTBACK_ALLOW_PRIVATE_ADDRESSES"


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str
    # The start of the answer's body as read (up to ``read_bytes``), for callers that parse it.
    body: bytes = b""


class AddressRefused(OSError):
    """The tracker's address is one we do not send to."""


def send(
    url: str,
    *,
    timeout: float,
    allow_private: bool,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    user_agent: str = USER_AGENT,
    read_bytes: int = _READ_BYTES,
    setting: str = POSTBACK_SETTING,
) -> SendResult:
    """Call ``url`` once; never raises for what the network or the other side does.

    ``setting`` names the configuration key that allows private addresses, for the
    message that explains a refusal."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirects(),
        _GuardedHTTPHandler(allow_private, setting),
        _GuardedHTTPSHandler(allow_private, setting),
    )
    request = urllib.request.Request(
        url, data=body, method=method, headers={**(headers or {}), "User-Agent": user_agent}
    )
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            content = response.read(read_bytes)
            return SendResult(response.status, _since(started), None, excerpt(content), content)
    except urllib.error.HTTPError as error:  # an answer, but not a 2xx
        content = _safe_read(error, read_bytes)
        message = "redirect not followed" if 300 <= error.code < 400 else f"HTTP {error.code}"
        return SendResult(error.code, _since(started), message, excerpt(content), content)
    except urllib.error.URLError as error:
        return SendResult(None, _since(started), _describe(error.reason), "")
    except Exception as error:  # a timeout while reading, a malformed answer, ...
        return SendResult(None, _since(started), _describe(error), "")


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address in the last 32 bits


def refusal(setting: str) -> str:
    """The one message for every refused target, whatever its address."""
    return f"refused: the target is not a public address ({setting} is off)"


def address_problem(address: str, allow_private: bool, setting: str = POSTBACK_SETTING) -> str | None:
    if allow_private:
        return None
    ip = _embedded(ipaddress.ip_address(address.split("%")[0]))
    if not ip.is_global or ip.is_multicast:
        return refusal(setting)
    return None


def _embedded(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), which is where it leads."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    return ip


def checked_addresses(host: str, port: int, allow_private: bool, setting: str) -> list[tuple]:
    """Every address ``host`` resolves to (one resolution), or ``AddressRefused`` if one of
    them may not be reached: the only addresses a guarded connection may use."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if any(address_problem(str(address[0]), allow_private, setting) for *_, address in found):
        raise AddressRefused(refusal(setting))
    return [(family, address) for family, _, _, _, address in found]


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _safe_read(error: urllib.error.HTTPError, read_bytes: int) -> bytes:
    try:
        return error.read(read_bytes) or b""
    except Exception:
        return b""


def _describe(error: object) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, TimeoutError | ssl.SSLError | ConnectionError) and type(error).__name__ not in text:
        text = f"{type(error).__name__}: {text}"
    return text[:500]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises the 3xx as an HTTPError


class _PeerCheck(http.client.HTTPConnection):
    allow_private = False
    setting = POSTBACK_SETTING

    def connect(self) -> None:
        """Connect to a checked address of the host (``checked_addresses``), the first that
        answers; TLS (``HTTPSConnection.connect``) then verifies the host's name."""
        addresses = checked_addresses(self.host, self.port, self.allow_private, self.setting)
        error: OSError | None = None
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                if self.timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                sock.connect(address)
            except OSError as failed:
                sock.close()
                error = failed
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            return
        raise error or OSError(f"{self.host} has no address")


class _GuardedHTTPConnection(_PeerCheck):
    pass


class _GuardedHTTPSConnection(http.client.HTTPSConnection, _PeerCheck):
    """HTTPSConnection.connect calls ``super().connect()``: the address is checked before TLS starts."""


def _connection(cls: type, allow_private: bool, setting: str):
    return functools.partial(_configured, cls, allow_private, setting)


def _configured(cls: type, allow_private: bool, setting: str, *args, **kwargs):
    connection = cls(*args, **kwargs)
    connection.allow_private = allow_private
    connection.setting = setting
    return connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool, setting: str) -> None:
        super().__init__()
        self._allow_private = allow_private
        self._setting = setting

    def http_open(self, req):
        return self.do_open(_connection(_GuardedHTTPConnection, self._allow_private, self._setting), req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool, setting: str) -> None:
        super().__init__(context=ssl.create_default_context())
        self._allow_private = allow_private
        self._setting = setting

    def https_open(self, req):
        return self.do_open(
            _connection(_GuardedHTTPSConnection, self._allow_private, self._setting),
            req,
            context=self._context,
        )
