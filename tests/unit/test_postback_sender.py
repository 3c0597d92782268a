"""Which tracker addresses a postback may reach (the sender's guard). No network."""

from __future__ import annotations

import socket

import pytest

from exchange.delivery.sender import address_problem, send


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "::1", "fe80::1%eth0", "fc00::5", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1",
    ],
)  # fmt: skip
def test_loopback_private_and_reserved_addresses_are_refused(address):
    problem = address_problem(address, allow_private=False)
    assert problem and "POSTBACK_ALLOW_PRIVATE_ADDRESSES is off" in problem
    assert address_problem(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_problem(address, allow_private=False) is None


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_refused_address_gets_not_one_byte(scheme):
    """The connected peer is checked before the request (and before TLS) is written."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = send(f"{scheme}://127.0.0.1:{port}/pb?x=1", timeout=2, allow_private=False)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(2)
            received = connection.recv(100)
    assert result.status_code is None
    assert result.error.startswith("refused to send to 127.0.0.1")
    assert received == b""
