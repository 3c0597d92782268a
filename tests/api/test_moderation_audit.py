"""The moderators' audit log (issue 6, point 8): who, what, when, why; append-only;
listed and exported as CSV for moderators and admins only."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from exchange.actors import Actor
from exchange.db import commit
from exchange.extensions import db
from exchange.moderation.audit.models import ModerationAction
from exchange.moderation.audit.services import record
from tests.factories import auth, make_key, make_user

T0 = datetime(2026, 1, 15, 12, 0, 0)
HEADER = [
    "id", "created_at", "actor_kind", "actor_user_id", "actor_label", "action",
    "subject_type", "subject_id", "reason", "data",
]  # fmt: skip


class Log:
    """Four entries an hour apart: two moderators and a rule, on disputes, a lead and a user."""

    def __init__(self, client, frozen_clock):
        self.client = client
        self.alice, self.bob = make_user("moderator"), make_user("moderator")
        self.admin = make_user("admin")
        self.webmaster, self.advertiser = make_user("webmaster"), make_user("advertiser")
        self.keys = {
            name: make_key(getattr(self, name)) for name in ("alice", "admin", "webmaster", "advertiser")
        }
        alice = Actor(kind="api_key", user_id=self.alice.id, api_key_id=None, label="alice-key")
        bob = Actor(kind="user", user_id=self.bob.id, label="bob@example.test")
        rule = Actor.system("return rule")
        frozen_clock.set(T0)
        consent = "Call recording proves consent."
        self.first = self._record(alice, "decide_dispute", "dispute", 7, consent, outcome="overturned")
        frozen_clock.advance(hours=1)
        self.second = self._record(rule, "auto_return", "dispute", 8, None, rule="invalid_contact")
        frozen_clock.advance(hours=1)
        formula = '=HYPERLINK("http://x")'
        self.third = self._record(bob, "ban_partner", "user", self.webmaster.id, formula, previous="active")
        frozen_clock.advance(hours=1)
        self.fourth = self._record(
            alice, "reject_fraud", "lead", 42, "@bot farm, -10 score", flags=["ip_velocity"]
        )

    @staticmethod
    def _record(actor: Actor, action: str, subject_type: str, subject_id: int, reason, **data) -> int:
        entry = record(actor, action, subject_type, subject_id, reason, **data)
        commit()
        return entry.id

    def get(self, who: str, path: str, **params):
        return self.client.get(path, query_string=params, headers=auth(self.keys[who]))

    def ids(self, who: str = "alice", **params) -> list[int]:
        response = self.get(who, "/api/v1/moderation/audit", per_page=500, **params)
        assert response.status_code == 200, response.get_json()
        return [entry["id"] for entry in response.get_json()["items"] if entry["id"] in self.all]

    @property
    def all(self) -> set[int]:
        return {self.first, self.second, self.third, self.fourth}


@pytest.fixture
def log(client, ctx, frozen_clock):
    return Log(client, frozen_clock)


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_moderators_and_admins_read_the_log_newest_first(log, who):
    response = log.get(who, "/api/v1/moderation/audit", per_page=500)

    assert response.status_code == 200, response.get_json()
    assert log.ids(who) == [log.fourth, log.third, log.second, log.first]
    (first,) = [entry for entry in response.get_json()["items"] if entry["id"] == log.first]
    assert first == {
        "id": log.first,
        "created_at": "2026-01-15T12:00:00Z",
        "actor_kind": "api_key",
        "actor_user_id": log.alice.id,
        "actor_label": "alice-key",
        "action": "decide_dispute",
        "subject_type": "dispute",
        "subject_id": 7,
        "reason": "Call recording proves consent.",
        "data": {"outcome": "overturned"},
    }


def test_the_log_pages(log):
    first = log.get("alice", "/api/v1/moderation/audit", per_page=2, page=1).get_json()
    second = log.get("alice", "/api/v1/moderation/audit", per_page=2, page=2).get_json()
    assert first["total"] == second["total"] >= 4
    assert [entry["id"] for entry in first["items"]] == [log.fourth, log.third]
    assert [entry["id"] for entry in second["items"]] == [log.second, log.first]


def test_the_log_filters(log):
    assert log.ids(actor_user_id=log.alice.id) == [log.fourth, log.first]
    assert log.ids(action="ban_partner") == [log.third]
    assert log.ids(subject_type="dispute") == [log.second, log.first]
    assert log.ids(subject_type="dispute", subject_id=8) == [log.second]
    assert log.ids(subject_type="user", subject_id=log.webmaster.id) == [log.third]
    # since inclusive, until exclusive
    since, until = (T0 + timedelta(hours=1)).isoformat(), (T0 + timedelta(hours=3)).isoformat()
    assert log.ids(since=since, until=until) == [log.third, log.second]
    assert log.ids(since=since, until=until, actor_user_id=log.bob.id) == [log.third]


def test_bad_filters_are_a_422(log):
    backwards = {"since": T0.isoformat(), "until": T0.isoformat()}
    for params in ({"actor_user_id": "x"}, {"subject_id": 0}, {"since": "yesterday"}, backwards):
        response = log.get("alice", "/api/v1/moderation/audit", **params)
        assert response.status_code == 422, params
        assert response.get_json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("who", ["webmaster", "advertiser"])
@pytest.mark.parametrize("path", ["/api/v1/moderation/audit", "/api/v1/moderation/audit.csv"])
def test_parties_cannot_read_the_log(log, who, path):
    response = log.get(who, path)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_role"


def test_the_log_needs_a_key(client, ctx):
    assert client.get("/api/v1/moderation/audit.csv").status_code == 401


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_the_csv_export_has_a_header_and_every_column(log, who):
    response = log.get(who, "/api/v1/moderation/audit.csv", action="decide_dispute")

    rows = csv_rows(response)
    assert "attachment" in response.headers["Content-Disposition"]
    assert rows[0] == HEADER
    assert rows[1:] == [
        [
            str(log.first),
            "2026-01-15T12:00:00Z",
            "api_key",
            str(log.alice.id),
            "alice-key",
            "decide_dispute",
            "dispute",
            "7",
            "Call recording proves consent.",
            '{"outcome": "overturned"}',
        ]
    ]


def test_the_csv_export_takes_the_filters_and_keeps_the_order(log):
    since = (T0 + timedelta(hours=1)).isoformat()
    rows = csv_rows(log.get("alice", "/api/v1/moderation/audit.csv", since=since))
    ours = [row for row in rows[1:] if int(row[0]) in log.all]
    assert [int(row[0]) for row in ours] == [log.fourth, log.third, log.second]
    system = next(row for row in ours if int(row[0]) == log.second)
    assert system[2:5] == ["system", "", "return rule"]  # a rule acting: no user
    assert system[8] == ""  # no reason given
    assert json.loads(system[9]) == {"rule": "invalid_contact"}


def test_the_csv_export_defuses_spreadsheet_formulas(log):
    rows = csv_rows(log.get("alice", "/api/v1/moderation/audit.csv", subject_type="user"))
    (ban,) = [row for row in rows[1:] if int(row[0]) == log.third]
    assert ban[8] == '\'=HYPERLINK("http://x")'
    (fraud,) = [
        row for row in csv_rows(log.get("alice", "/api/v1/moderation/audit.csv", action="reject_fraud"))[1:]
    ]
    assert fraud[8] == "'@bot farm, -10 score"
    assert json.loads(fraud[9]) == {"flags": ["ip_velocity"]}  # JSON starts with {: left alone


def test_an_empty_export_is_just_the_header(log):
    rows = csv_rows(log.get("admin", "/api/v1/moderation/audit.csv", action="nothing_like_this"))
    assert rows == [HEADER]


@pytest.mark.parametrize(
    "change",
    [
        lambda entry_id: (
            update(ModerationAction).where(ModerationAction.id == entry_id).values(reason="edited")
        ),
        lambda entry_id: delete(ModerationAction).where(ModerationAction.id == entry_id),
    ],
    ids=["update", "delete"],
)
def test_the_log_is_append_only(log, change):
    with pytest.raises(DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.execute(change(log.first))

    reason = db.session.scalar(
        select(ModerationAction.reason)
        .where(ModerationAction.id == log.first)
        .execution_options(populate_existing=True)
    )
    assert reason == "Call recording proves consent."
    assert log.ids(action="decide_dispute") == [log.first]
