"""The ``flask`` commands, against a database whose commits are real."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from billing.check import invariants
from billing.domain import advertiser_available, webmaster_available
from billing.models import Account, Transfer
from billing.payouts.models import Payout
from billing.payouts.services import request_payout
from billing.payouts.settings import save_settings
from exchange.accounts.models import User
from exchange.accounts.services import authenticate_password, user_for_api_key
from exchange.actors import Actor
from exchange.auctions.models import AuctionBid
from exchange.buying.models import Sale
from exchange.db import commit
from exchange.disputes.models import Dispute
from exchange.extensions import db
from exchange.leads.decisions import approve_lead, release_hold
from exchange.leads.models import Lead
from exchange.quality.models import SellerQuality
from exchange.reports.models import ReportChange, ReportDaily
from exchange.selling.models import SellerPing
from exchange.tracking.models import Click
from tests.factories import fund, lead_fields, make_join, make_offer, make_user
from tests.integration.helpers import available, fresh_lead, submit_and_validate


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def create_user(app, email: str, role: str, password: str = "long-enough-pw"):
    return run(app, "users", "create", "--email", email, "--role", role, "--password", password)


def test_users_create_with_a_password_option(live):
    result = create_user(live, "Ann@Example.test", "advertiser")

    assert result.exit_code == 0, result.output
    assert "<ann@example.test> as advertiser" in result.output
    with live.app_context():
        user = db.session.scalar(select(User).where(User.email == "ann@example.test"))
        assert user.role == "advertiser"
        assert authenticate_password("ann@example.test", "long-enough-pw") == user
        assert authenticate_password("ann@example.test", "wrong-password") is None


def test_users_create_prompts_for_the_password_twice(live):
    result = run(
        live, "users", "create", "--email", "bob@example.test", "--role", "webmaster",
        input="prompted-password\nprompted-password\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    with live.app_context():
        user = authenticate_password("bob@example.test", "prompted-password")
        assert user is not None and user.role == "webmaster"


def test_users_create_refuses_a_second_user_with_the_same_email(live):
    assert create_user(live, "c@example.test", "admin").exit_code == 0

    result = create_user(live, "c@example.test", "webmaster")

    assert result.exit_code != 0
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_users_create_key_prints_a_key_that_authenticates(live):
    assert create_user(live, "k@example.test", "webmaster").exit_code == 0

    result = run(live, "users", "create-key", "--email", "k@example.test")

    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("lx_")
    with live.app_context():
        user, _key = user_for_api_key(secret)
        assert user.email == "k@example.test"


def test_billing_credit_with_the_same_reference_twice_credits_once(live):
    with live.app_context():
        advertiser_id = make_user("advertiser").id
        email = db.session.get(User, advertiser_id).email
    credit = ["billing", "credit", "--email", email, "--amount-minor", "5000", "--currency", "usd"]
    credit += ["--reference", "wire-42"]

    first, second = run(live, *credit), run(live, *credit)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "credited 5000 USD" in first.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 1
        assert db.session.get(Transfer, "topup:wire-42").amount_minor == 5000
        assert available(advertiser_available(advertiser_id, "USD")) == 5000


def test_billing_credit_reusing_a_reference_for_another_amount_is_refused_with_a_message(live):
    with live.app_context():
        advertiser_id = make_user("advertiser").id
        email = db.session.get(User, advertiser_id).email
    credit = ["billing", "credit", "--email", email, "--currency", "USD", "--reference", "wire-42"]
    assert run(live, *credit, "--amount-minor", "5000").exit_code == 0

    result = run(live, *credit, "--amount-minor", "6000")

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), f"unhandled {result.exception!r}"
    assert result.output.startswith("Error:") and "wire-42" in result.output, result.output
    with live.app_context():
        assert available(advertiser_available(advertiser_id, "USD")) == 5000


def test_billing_credit_refuses_a_currency_that_is_not_three_letters(live):
    with live.app_context():
        email = make_user("advertiser").email

    result = run(live, "billing", "credit", "--email", email, "--amount-minor", "5000", "--currency", "usdx")

    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), f"unhandled {result.exception!r}"
    assert result.output.startswith("Error:"), result.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_billing_credit_refuses_someone_who_is_not_an_advertiser(live):
    with live.app_context():
        email = make_user("webmaster").email

    result = run(live, "billing", "credit", "--email", email, "--amount-minor", "5000", "--currency", "USD")

    assert result.exit_code != 0
    assert "no advertiser" in result.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_billing_credit_funds_the_leads_waiting_for_it(live, frozen_clock):
    with live.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        make_join(webmaster, offer)
        waiting = [submit_and_validate(webmaster, offer, lead_fields(n)).id for n in (1, 2)]
        assert [fresh_lead(i).status for i in waiting] == ["awaiting_funds"] * 2
        email = advertiser.email

    credit = ["billing", "credit", "--email", email, "--amount-minor", "1500", "--currency", "USD"]
    result = run(live, *credit, "--reference", "wire-7")

    assert result.exit_code == 0, result.output
    with live.app_context():
        assert [fresh_lead(i).status for i in waiting] == ["pending", "awaiting_funds"]


@pytest.fixture
def requested_payout(live, frozen_clock):
    """A webmaster with 1000 earned and released from hold, all of it requested as payout."""
    with live.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        lead = submit_and_validate(webmaster, offer, lead_fields(1))
        approve_lead(lead.id, Actor(kind="user", user_id=advertiser.id, label="test"))
        commit()
        frozen_clock.advance(days=14, seconds=1)
        assert release_hold(lead.id)
        commit()
        payout = request_payout(webmaster.id, "USD", 1000)
        commit()
        assert available(webmaster_available(webmaster.id, "USD")) == 0
        return payout.id, webmaster.id


@pytest.mark.parametrize(
    ("outcome", "kind", "left_available"),
    [("paid", "post_pending", 0), ("failed", "void_pending", 1000)],
)
def test_billing_settle_payout(live, requested_payout, outcome, kind, left_available):
    payout_id, webmaster_id = requested_payout

    result = run(live, "billing", "settle-payout", str(payout_id), "--outcome", outcome)

    assert result.exit_code == 0, result.output
    assert f"payout {payout_id}: {outcome}" in result.output
    with live.app_context():
        assert db.session.get(Payout, payout_id).status == outcome
        settlement = db.session.get(Transfer, f"payout:{payout_id}:{outcome}")
        assert (settlement.kind, settlement.pending_id, settlement.amount_minor) == (
            kind,
            f"payout:{payout_id}",
            1000,
        )
        assert available(webmaster_available(webmaster_id, "USD")) == left_available


def test_billing_settle_payout_again_is_idempotent_and_the_other_outcome_is_refused(live, requested_payout):
    payout_id, _ = requested_payout
    assert run(live, "billing", "settle-payout", str(payout_id), "--outcome", "paid").exit_code == 0

    again = run(live, "billing", "settle-payout", str(payout_id), "--outcome", "paid")
    other = run(live, "billing", "settle-payout", str(payout_id), "--outcome", "failed")

    assert again.exit_code == 0, again.output
    assert other.exit_code != 0
    assert "already paid" in other.output
    with live.app_context():
        assert db.session.get(Payout, payout_id).status == "paid"
        assert db.session.get(Transfer, f"payout:{payout_id}:failed") is None


def test_billing_payout_batch_prints_the_csv_once(live, requested_payout):
    payout_id, webmaster_id = requested_payout

    result = run(live, "billing", "payout-batch", "--currency", "usd")
    again = run(live, "billing", "payout-batch", "--currency", "USD")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["payout_id"], r["webmaster_id"], r["amount"], r["currency"]) for r in rows] == [
        (str(payout_id), str(webmaster_id), "10.00", "USD")
    ]
    assert again.exit_code != 0 and "No requested manual payouts in USD" in again.output
    with live.app_context():
        payout = db.session.get(Payout, payout_id)
        assert (payout.status, payout.batch_id is not None) == ("requested", True)  # batched, not paid


def test_billing_payout_batch_writes_the_csv_where_asked(live, requested_payout, tmp_path):
    payout_id, _ = requested_payout
    path = tmp_path / "batch.csv"

    result = run(live, "billing", "payout-batch", "--currency", "USD", "--output", str(path))

    assert result.exit_code == 0, result.output
    assert f"1 payout(s), CSV in {path}" in result.output
    assert [row["payout_id"] for row in csv.DictReader(path.open(newline=""))] == [str(payout_id)]


def test_billing_scheduled_payouts_pays_out_once_per_period(live, frozen_clock):
    with live.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser, hold_seconds=0)
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        lead = submit_and_validate(webmaster, offer, lead_fields(1))
        approve_lead(lead.id, Actor(kind="user", user_id=advertiser.id, label="test"))
        commit()
        assert release_hold(lead.id)
        save_settings(webmaster.id, {"schedule": "weekly", "weekday": frozen_clock.now.isoweekday()})
        commit()
        webmaster_id = webmaster.id

    first = run(live, "billing", "scheduled-payouts")
    second = run(live, "billing", "scheduled-payouts")

    assert first.exit_code == 0, first.output
    assert "requested=1 " in first.output and "requested=0 " in second.output
    with live.app_context():
        payouts = db.session.scalars(select(Payout).where(Payout.webmaster_id == webmaster_id)).all()
        assert [(p.amount_minor, p.status) for p in payouts] == [(1000, "requested")]
        assert available(webmaster_available(webmaster_id, "USD")) == 0


def test_exchange_sweep_approves_what_is_due(live, frozen_clock):
    with live.app_context():
        advertiser, webmaster = make_user("advertiser"), make_user("webmaster")
        offer = make_offer(advertiser)
        fund(advertiser, 10_000)
        make_join(webmaster, offer)
        lead = submit_and_validate(webmaster, offer, lead_fields(1))
        lead_id, deadline = lead.id, lead.review_deadline
    frozen_clock.set(deadline - timedelta(seconds=1))
    early = run(live, "exchange", "sweep")
    with live.app_context():
        assert fresh_lead(lead_id).status == "pending"
    frozen_clock.set(deadline + timedelta(seconds=1))

    result = run(live, "exchange", "sweep")

    assert early.exit_code == 0 and "auto_approved=0" in early.output
    assert result.exit_code == 0, result.output
    assert "auto_approved=1" in result.output
    with live.app_context():
        assert fresh_lead(lead_id).status == "approved"
        assert db.session.get(Transfer, f"lead:{lead_id}:approve:payout").kind == "post_pending"


def test_demo_seed_leaves_a_book_that_passes_billing_check(live):
    seeded = run(live, "demo", "seed")
    assert seeded.exit_code == 0, seeded.output
    assert "Seeded the demo." in seeded.output
    assert "lx_" in seeded.output
    with live.app_context():
        statuses = set(db.session.scalars(select(Lead.status).where(Lead.offer_id.is_not(None))))
        assert statuses == {"received", "pending", "awaiting_funds", "rejected", "approved", "returned"}
        # the exchange: auctions of every outcome, sales in each state, the demo's pinged buyer
        exchange = set(db.session.scalars(select(Lead.status).where(Lead.vertical_id.is_not(None))))
        assert exchange == {"sold", "unsold", "rejected"}
        statuses = {"approved", "rejected", "pending", "returned"}
        assert set(db.session.scalars(select(Sale.status))) == statuses
        assert set(db.session.scalars(select(Sale.exclusive))) == {True, False}
        answered = select(func.count()).select_from(AuctionBid).where(AuctionBid.ping_status == "answered")
        assert db.session.scalar(answered) >= 1
        assert db.session.scalar(select(func.count()).select_from(SellerPing)) == 1
        sale = db.session.scalar(select(Lead).where(Lead.txid == "demo-order-1001"))
        # 10 % and 7 % of 129.00
        assert (sale.status, sale.rate_minor, sale.payout_minor) == ("approved", 1290, 903)
        disputes = {(d.kind, d.status, d.outcome) for d in db.session.scalars(select(Dispute))}
        assert disputes == {
            ("appeal", "escalated", None),
            ("return", "awaiting_answer", None),
            # catalog purchases returned: conceded, waiting for the seller, before the moderators
            ("sale_return", "resolved", "upheld"),
            ("sale_return", "awaiting_answer", None),
            ("sale_return", "escalated", None),
        }
        assert db.session.scalar(select(func.count()).select_from(User).where(User.status == "pending")) == 1
        # quality moves money: the insurer rejected 6 of the seller's drivers, so it sells there at 75 %
        multipliers = {row.multiplier_bps for row in db.session.scalars(select(SellerQuality))}
        assert multipliers == {10_000, 7_500}
        # folded: the dashboards show the demo from the first page, not after the first fold
        assert db.session.scalar(select(func.count()).select_from(ReportChange)) == 0
        assert db.session.scalar(select(func.sum(ReportDaily.clicks))) == db.session.scalar(
            select(func.count()).select_from(Click).where(Click.offer_id.is_not(None))
        )  # the offers' reports; exchange clicks and leads are not in them
        # visitors of the seller's vertical link sent its hosted form: leads tied to their clicks
        vertical_clicks = set(db.session.scalars(select(Click.click_id).where(Click.vertical_id.isnot(None))))
        form_leads = db.session.scalars(select(Lead).where(Lead.click_token.in_(vertical_clicks))).all()
        assert len(vertical_clicks) == len(form_leads) == 2
        assert {lead.sub1 for lead in form_leads} == {"facebook", "google"}
    assert "conversion postback token: pb_" in seeded.output

    result = run(live, "billing", "check")

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    with live.app_context():
        names = list(invariants())
    assert "leads_charged_as_their_status_says" in names
    assert lines == [f"ok   {name}" for name in names]


def test_demo_seed_twice_seeds_once(live):
    assert run(live, "demo", "seed").exit_code == 0
    with live.app_context():
        users, leads = (db.session.scalar(select(func.count()).select_from(m)) for m in (User, Lead))

    again = run(live, "demo", "seed")

    assert again.exit_code == 0, again.output
    assert "nothing seeded" in again.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        assert db.session.scalar(select(func.count()).select_from(Lead)) == leads


def test_billing_check_fails_naming_a_tampered_cached_balance(live):
    assert run(live, "demo", "seed").exit_code == 0
    with live.app_context():
        code = db.session.scalar(
            select(Account.code).where(Account.owner == "advertiser", Account.currency == "USD")
        )
        db.session.execute(
            text("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE code = :code"), {"code": code}
        )
        db.session.commit()

    result = run(live, "billing", "check")

    assert result.exit_code != 0
    assert "FAIL cached_balances_match_transfers" in result.output
    assert "FAIL balanced_per_currency" in result.output
    assert code in result.output
    assert "ok   leads_charged_as_their_status_says" in result.output


def test_demo_commands_refuse_to_run_in_production(live_app_factory):
    app = live_app_factory(EXCHANGE_ENV="production", SECRET_KEY="k" * 64, REDIS_URL="redis://127.0.0.1:1/0")
    for command in (["demo", "seed"], ["demo", "serve", "--port", "1"]):
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code != 0
        assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
