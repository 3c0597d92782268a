"""The calls this exchange makes to Stripe, through the official library.

Every call carries an idempotency key derived from our own row, so a retried
request (by the library, or by us after a timeout) never makes a second
PaymentIntent. ``STRIPE_API_BASE`` points the library at another server
(localstripe in the tests); nothing else changes.
"""

from __future__ import annotations

import functools

import stripe
from flask import current_app

from billing.topups.domain import Movement
from billing.topups.models import Topup
from exchange.errors import AppError


class ProviderUnavailable(AppError):
    status = 502
    code = "payment_provider_error"


def configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def create_payment_intent(topup: Topup) -> tuple[str, str]:
    """A card PaymentIntent for the top-up: (its id, the client secret the page confirms it with)."""
    try:
        intent = client().v1.payment_intents.create(
            params={
                "amount": topup.amount_minor,
                "currency": topup.currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {"topup_id": str(topup.id), "advertiser_id": str(topup.advertiser_id)},
            },
            options={"idempotency_key": f"topup-{topup.id}"},
        )
    except stripe.StripeError as error:
        raise ProviderUnavailable(
            f"Stripe refused or could not be reached: {error.user_message or error}"
        ) from None
    return intent.id, intent.client_secret


def balance_movements() -> list[Movement]:
    """Every balance transaction that moved card money in or out: charges (keyed by their
    PaymentIntent), refunds (by their charge) and dispute adjustments (by the dispute)."""
    stripe_client = client()
    movements = []
    try:
        for txn in stripe_client.v1.balance_transactions.list(params={"limit": 100}).auto_paging_iter():
            key = _movement_key(stripe_client, txn)
            if key is not None:
                movements.append(Movement(key, txn.currency.upper(), int(txn.amount)))
    except stripe.StripeError as error:
        raise ProviderUnavailable(f"Stripe refused or could not be reached: {error}") from None
    return movements


def _movement_key(stripe_client: stripe.StripeClient, txn: stripe.BalanceTransaction) -> str | None:
    source = txn.source if isinstance(txn.source, str) else getattr(txn.source, "id", None)
    if txn.type in ("charge", "payment") and source:
        return f"charge {stripe_client.v1.charges.retrieve(source).payment_intent}"
    if txn.type in ("refund", "payment_refund") and source:
        return f"refunds of {stripe_client.v1.refunds.retrieve(source).charge}"
    if txn.type == "adjustment" and source and source.startswith(("dp_", "du_")):
        return f"dispute {source}"
    return None  # payouts, fees, transfers: not money an advertiser paid in


def client() -> stripe.StripeClient:
    """The official library's client for this exchange's account (one per key and base)."""
    config = current_app.config
    return _client_for(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE"))


@functools.cache
def _client_for(secret_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key, base_addresses={"api": api_base} if api_base else None, max_network_retries=2
    )
