"""Which tracker addresses a postback may reach (the sender's guard): refused before any
packet leaves, with one message whatever the address. No network beyond a listener on
127.0.0.1 that must see no connection."""

from __future__ import annotations

import socket

import pytest

from exchange.delivery.sender import address_problem, refusal, send


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "::1", "fe80::1%eth0", "fc00::5", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe",  # NAT64 of 127.0.0.1, 10.0.0.1, metadata
        "2002:7f00:1::1", "2002:c0a8:101::", "2002:a9fe:a9fe::1",  # 6to4 of the same kind
    ],
)  # fmt: skip
def test_loopback_private_and_reserved_addresses_are_refused(address):
    problem = address_problem(address, allow_private=False)
    assert problem == refusal("POSTBACK_ALLOW_PRIVATE_ADDRESSES")
    assert address_problem(address, allow_private=True) is None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_public_addresses_are_allowed(address):
    assert address_problem(address, allow_private=False) is None


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that every refused target would reach."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.3)
        yield sock


def connections_to(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = sock.accept()
        except TimeoutError:
            return count
        connection.close()
        count += 1


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]"]
)
def test_a_refused_target_gets_no_connection_and_the_same_message(listener, scheme, host):
    port = listener.getsockname()[1]

    result = send(f"{scheme}://{host}:{port}/pb?x=1", timeout=2, allow_private=False)

    assert result.status_code is None
    assert result.error == refusal("POSTBACK_ALLOW_PRIVATE_ADDRESSES")
    assert connections_to(listener) == 0


def test_a_name_with_one_private_address_among_public_ones_is_refused_whole(listener, monkeypatch):
    """DNS answers cannot be chosen here: the resolver is replaced for one made-up name,
    answering a public address and then the listener's."""
    port = listener.getsockname()[1]
    real = socket.getaddrinfo

    def two_answers(host, *args, **kwargs):
        if host != "tracker.example":
            return real(host, *args, **kwargs)
        stream = (socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
        return [
            (socket.AF_INET, *stream, ("93.184.216.34", port)),
            (socket.AF_INET, *stream, ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)

    result = send(f"http://tracker.example:{port}/pb", timeout=2, allow_private=False)

    assert result.error == refusal("POSTBACK_ALLOW_PRIVATE_ADDRESSES")
    assert connections_to(listener) == 0


def test_an_allowed_target_is_reached_on_the_address_checked(listener):
    port = listener.getsockname()[1]

    result = send(f"http://localhost:{port}/pb", timeout=0.5, allow_private=True)

    assert connections_to(listener) == 1  # connected (the listener answers nothing: a timeout)
    assert result.status_code is None and "timed out" in result.error.lower()
