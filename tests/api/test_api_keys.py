"""API keys (DESIGN §6): shown once, stored hashed, listed without the secret, revocable."""

from __future__ import annotations

from exchange.accounts.models import ApiKey
from exchange.extensions import db
from tests.factories import auth, make_key, make_user


def prefix_of(secret: str) -> str:
    return secret.split("_")[1]


def key_id(client, key: str, secret: str) -> int:
    listed = client.get("/api/v1/keys", headers=auth(key)).get_json()
    (found,) = [k["id"] for k in listed if k["prefix"] == prefix_of(secret)]
    return found


def test_a_new_key_is_shown_once_and_works(client, ctx):
    user = make_user("webmaster")
    key = make_key(user)

    created = client.post("/api/v1/keys", json={"name": "tracker"}, headers=auth(key))

    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    secret = body["secret"]
    assert body["name"] == "tracker"
    assert secret.startswith(f"lx_{body['prefix']}_")
    stored = db.session.get(ApiKey, body["id"])
    assert stored.user_id == user.id
    assert secret not in (stored.key_hash, stored.prefix)  # kept hashed
    listed = client.get("/api/v1/keys", headers=auth(secret))  # the new key authenticates
    assert listed.status_code == 200
    assert body["id"] in [k["id"] for k in listed.get_json()]
    assert secret not in listed.get_data(as_text=True)  # never shown again


def test_listing_keys_never_shows_a_secret(client, ctx):
    user = make_user("advertiser")
    first, second = make_key(user), make_key(user)

    response = client.get("/api/v1/keys", headers=auth(first))

    assert response.status_code == 200
    keys = response.get_json()
    assert {k["prefix"] for k in keys} == {prefix_of(first), prefix_of(second)}
    for item in keys:
        assert "secret" not in item
        assert "key_hash" not in item
    text = response.get_data(as_text=True)
    assert first not in text and second not in text
    assert first.split("_", 2)[2] not in text and second.split("_", 2)[2] not in text


def test_keys_are_listed_to_their_owner_only(client, ctx):
    mine, theirs = make_user("webmaster"), make_user("webmaster")
    my_key, their_key = make_key(mine), make_key(theirs)
    listed = client.get("/api/v1/keys", headers=auth(my_key)).get_json()
    assert [k["prefix"] for k in listed] == [prefix_of(my_key)]
    assert prefix_of(their_key) not in [k["prefix"] for k in listed]


def test_a_revoked_key_is_refused(client, ctx):
    user = make_user("webmaster")
    keeper, doomed = make_key(user), make_key(user)
    assert client.get("/api/v1/keys", headers=auth(doomed)).status_code == 200

    revoked = client.delete(f"/api/v1/keys/{key_id(client, keeper, doomed)}", headers=auth(keeper))

    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["revoked_at"]
    refused = client.get("/api/v1/keys", headers=auth(doomed))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "revoked_api_key"
    assert client.get("/api/v1/keys", headers=auth(keeper)).status_code == 200  # the other key lives on


def test_a_key_can_revoke_itself(client, ctx):
    user = make_user("advertiser")
    key = make_key(user)
    response = client.delete(f"/api/v1/keys/{key_id(client, key, key)}", headers=auth(key))
    assert response.status_code == 200
    refused = client.get("/api/v1/balance", headers=auth(key))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "revoked_api_key"


def test_another_users_key_cannot_be_revoked(client, ctx):
    mine, theirs = make_user("webmaster"), make_user("webmaster")
    my_key, their_key = make_key(mine), make_key(theirs)
    their_id = key_id(client, their_key, their_key)

    response = client.delete(f"/api/v1/keys/{their_id}", headers=auth(my_key))

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/keys", headers=auth(their_key)).status_code == 200
