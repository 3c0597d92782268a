"""A webmaster's standing (exchange/moderation/partners/domain.py): every status × every action, what a
webmaster that may not send traffic is told, and the WEBMASTER_APPROVAL setting checked at start."""

from __future__ import annotations

import pytest

from exchange.accounts.domain import USER_STATUSES
from exchange.config import ConfigError, load_config
from exchange.moderation.partners.domain import ACTIONS, IllegalMove, next_status, refusal

TABLE = {
    ("pending", "approve"): "active",
    ("pending", "ban"): "banned",
    ("pending", "unban"): None,
    ("active", "approve"): "active",  # no-op
    ("active", "ban"): "banned",
    ("active", "unban"): "active",  # no-op
    ("banned", "approve"): None,  # a ban is lifted by unban, with a reason
    ("banned", "ban"): "banned",  # no-op
    ("banned", "unban"): "active",
}


def test_the_table_covers_every_status_and_action():
    assert set(TABLE) == {(status, action) for status in USER_STATUSES for action in ACTIONS}


@pytest.mark.parametrize(("status", "action"), sorted(TABLE))
def test_each_move(status, action):
    expected = TABLE[(status, action)]
    if expected is None:
        with pytest.raises(IllegalMove, match=f"is {status} cannot be"):
            next_status(status, action)
    else:
        assert next_status(status, action) == expected


def test_an_active_account_is_not_refused():
    assert refusal("active", None) is None
    assert refusal("active", "was banned once") is None


def test_a_pending_account_is_told_it_waits_for_approval():
    refused = refusal("pending", None)
    assert refused.code == "account_pending"
    assert "approval" in refused.message


def test_a_banned_account_is_told_why():
    refused = refusal("banned", "Incentivised traffic")
    assert refused.code == "account_banned"
    assert refused.message == "Your account is banned: Incentivised traffic"
    assert refusal("banned", None).message == "Your account is banned."


def test_an_unknown_status_is_refused():
    assert refusal("frozen", None).code == "account_inactive"


@pytest.mark.parametrize("value", ["moderator", "auto"])
def test_webmaster_approval_takes_its_two_values(tmp_path, value):
    config = load_config(str(tmp_path), {"EXCHANGE_ENV": "testing", "WEBMASTER_APPROVAL": value})
    assert config["WEBMASTER_APPROVAL"] == value


def test_webmaster_approval_defaults_to_moderators(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBMASTER_APPROVAL", raising=False)
    assert load_config(str(tmp_path), {"EXCHANGE_ENV": "testing"})["WEBMASTER_APPROVAL"] == "moderator"


def test_an_unknown_webmaster_approval_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBMASTER_APPROVAL", "automatic")
    expected = "WEBMASTER_APPROVAL must be one of moderator, auto, not 'automatic'"
    with pytest.raises(ConfigError, match=expected):
        load_config(str(tmp_path), {"EXCHANGE_ENV": "testing"})
