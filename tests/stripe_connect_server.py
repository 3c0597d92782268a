"""Stripe Connect transfers for the tests: ``localstripe`` has no ``/v1/transfers``, so
this small HTTP server answers that endpoint as Stripe's API reference documents it
(https://docs.stripe.com/api/transfers/create), on 127.0.0.1 on a random port. The
application reaches it through the official ``stripe`` library, with
``STRIPE_API_BASE`` pointing here; nothing in the application is patched.

What it does as Stripe does:
- ``POST /v1/transfers`` takes form-encoded parameters (``metadata[payout_id]=7``)
  with ``Authorization: Bearer <secret key>`` and answers a ``transfer`` object;
- an ``Idempotency-Key`` already seen with the same parameters answers the first
  answer again (``Idempotent-Replayed: true``) and creates nothing; with other
  parameters it is a 400 ``idempotency_error``;
- a destination it does not know is a 400 ``invalid_request_error``
  (``resource_missing``, "No such destination"), more than the platform's balance
  a 400 ``balance_insufficient``, a missing parameter a 400 ``parameter_missing``;
- ``GET /v1/transfers/<id>`` answers the transfer.

And what a test needs to break things: ``lose_answers(n)`` makes the next ``n``
requests do their work and then close the connection without an answer (a network
failure after Stripe acted); ``creations`` counts transfers really made.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SECRET_KEY = "sk_test_connect_server"
CONNECTED_ACCOUNT = "acct_1TestConnected01"


def nested(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding: ``metadata[payout_id]=7`` -> ``{"metadata": {"payout_id": "7"}}``."""
    params: dict = {}
    for key, value in pairs:
        if "[" in key and key.endswith("]"):
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


class StripeConnectServer:
    """``with StripeConnectServer() as stripe_connect:`` a fresh server (state in memory)."""

    def __init__(self, accounts: tuple[str, ...] = (CONNECTED_ACCOUNT,), balance_minor: int = 10**9) -> None:
        self.accounts = set(accounts)
        self.balance_minor = balance_minor  # the platform's available Stripe balance, per currency
        self.transfers: dict[str, dict] = {}
        self.requests: list[dict] = []  # every POST /v1/transfers: headers of note and params
        self.lookups: list[str] = []  # the query of every GET /v1/transfers (a list)
        self._answers: dict[str, tuple[dict, int, dict]] = {}  # idempotency key -> (params, status, body)
        self._lose = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StripeConnectServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def app_config(self) -> dict:
        return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": self.url}

    def lose_answers(self, count: int) -> None:
        self._lose = count

    def forget_idempotency_keys(self) -> None:
        """What Stripe does to a key after 24 hours: the same key then makes a new object."""
        with self._lock:
            self._answers.clear()

    def transfers_in_group(self, group: str) -> list[dict]:
        """GET /v1/transfers?transfer_group=...: newest first, as Stripe lists."""
        with self._lock:
            found = [t for t in self.transfers.values() if t["transfer_group"] == group]
        return list(reversed(found))

    @property
    def creations(self) -> int:
        return len(self.transfers)

    def create_transfer(self, params: dict, idempotency_key: str | None) -> tuple[int, dict, bool]:
        """(status, body, replayed) for one POST /v1/transfers."""
        with self._lock:
            if idempotency_key and idempotency_key in self._answers:
                first_params, status, body = self._answers[idempotency_key]
                if first_params != params:
                    return (
                        400,
                        _error(
                            "idempotency_error",
                            None,
                            "Keys for idempotent requests can only be used with the same parameters they "
                            f"were first used with. Try using a key other than '{idempotency_key}' if you "
                            "meant to execute a different request.",
                        ),
                        False,
                    )
                return status, body, True
            status, body = self._transfer(params)
            if idempotency_key:
                self._answers[idempotency_key] = (params, status, body)
            return status, body, False

    def _transfer(self, params: dict) -> tuple[int, dict]:
        for name in ("amount", "currency", "destination"):
            if not params.get(name):
                return 400, _error(
                    "invalid_request_error", "parameter_missing", f"Missing required param: {name}.", name
                )
        if not params["amount"].isdigit() or int(params["amount"]) <= 0:
            return 400, _error(
                "invalid_request_error", "parameter_invalid_integer", "Invalid integer.", "amount"
            )
        if params["destination"] not in self.accounts:
            message = f"No such destination: '{params['destination']}'"
            return 400, _error("invalid_request_error", "resource_missing", message, "destination")
        amount = int(params["amount"])
        if amount > self.balance_minor:
            message = (
                "You have insufficient available funds in your Stripe account. Try adding funds "
                "directly to your available balance by creating Charges using the 4000000000000077 "
                "test card. See: https://stripe.com/docs/testing#available-balance"
            )
            return 400, _error("invalid_request_error", "balance_insufficient", message)
        self.balance_minor -= amount
        transfer_id = "tr_" + secrets.token_hex(12)
        transfer = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": "txn_" + secrets.token_hex(12),
            "created": int(time.time()),
            "currency": params["currency"],
            "description": params.get("description"),
            "destination": params["destination"],
            "destination_payment": "py_" + secrets.token_hex(12),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": None,
            "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
        self.transfers[transfer_id] = transfer
        return 200, transfer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if not self._authorised():
                    return
                if self.path != "/v1/transfers":
                    self._answer(
                        404,
                        _error(
                            "invalid_request_error", None, f"Unrecognized request URL (POST: {self.path})."
                        ),
                    )
                    return
                params = nested(parse_qsl(body, keep_blank_values=True))
                key = self.headers.get("Idempotency-Key")
                server.requests.append({"idempotency_key": key, "params": params})
                status, answer, replayed = server.create_transfer(params, key)
                with server._lock:
                    lose = server._lose > 0
                    server._lose -= int(lose)
                if lose:  # the work is done; the answer never arrives
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._answer(status, answer, {"Idempotent-Replayed": "true"} if replayed else {})

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                path, _, query = self.path.partition("?")
                if path == "/v1/transfers":
                    server.lookups.append(query)
                    group = dict(parse_qsl(query)).get("transfer_group")
                    found = server.transfers_in_group(group) if group else list(server.transfers.values())
                    listing = {"object": "list", "data": found, "has_more": False, "url": "/v1/transfers"}
                    self._answer(200, listing)
                    return
                transfer_id = self.path.removeprefix("/v1/transfers/")
                if self.path.startswith("/v1/transfers/") and transfer_id in server.transfers:
                    self._answer(200, server.transfers[transfer_id])
                else:
                    message = f"No such transfer: '{transfer_id}'"
                    self._answer(404, _error("invalid_request_error", "resource_missing", message, "id"))

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {SECRET_KEY}":
                    return True
                self._answer(401, _error("invalid_request_error", None, "Invalid API Key provided."))
                return False

            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(7))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _error(error_type: str, code: str | None, message: str, param: str | None = None) -> dict:
    error: dict = {"type": error_type, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}
