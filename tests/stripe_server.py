"""Stripe for the tests: ``localstripe`` (a local Stripe emulator) run as a real HTTP
server on 127.0.0.1, driven through the official ``stripe`` library, sending real
signed webhooks. Nothing here patches the application."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import stripe

SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_tests"


class LocalStripe:
    """``with LocalStripe() as stripe_server:`` a fresh emulator (its state is in memory)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> LocalStripe:
        self._process = subprocess.Popen(
            # --from-scratch: localstripe otherwise loads the state every instance dumps
            # to /tmp/localstripe.pickle, so one run would see another's payments.
            [sys.executable, "-m", "localstripe", "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("localstripe did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)

    def app_config(self) -> dict:
        """The configuration that points an app at this emulator."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
        }

    def send_webhooks_to(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        data = urlencode({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/tests", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url}, max_network_retries=0)

    def pay(self, payment_intent_id: str, payment_method: str = "pm_card_visa") -> None:
        """What Stripe.js does in the advertiser's browser: attach a card and confirm.
        ``pm_card_visa_chargeDeclined`` is a card that is declined."""
        client = self.client()
        client.v1.payment_intents.update(payment_intent_id, params={"payment_method": payment_method})
        client.v1.payment_intents.confirm(payment_intent_id)

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.url}/v1/balance", timeout=1)
        except urllib.error.HTTPError:
            return True  # it answers (401 without a key): up
        except OSError:
            return False
        return True
