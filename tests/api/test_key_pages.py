"""API keys on the advertiser's and the webmaster's own pages (``/advertiser/keys``,
``/webmaster/keys``): made with the secret shown once, listed without it, revoked; never
another user's, never another role's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from exchange.accounts.models import ApiKey
from exchange.extensions import db
from tests.api.test_advertiser_pages import page, post, signed_in
from tests.api.test_web_portal import request
from tests.factories import auth, make_key, make_user

OTHER_ROLE = {"advertiser": "webmaster", "webmaster": "advertiser"}


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_keys_are_created_shown_once_and_revoked(app, client, ctx, role):
    user, rival = make_user(role), make_user(role)
    make_key(rival)
    signed_in(app, client, user)

    created = post(app, client, f"/{role}/keys", {"name": "CRM"})
    secret = re.search(r'id="new-key">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert created.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/balance", headers=auth(secret)).status_code == 200
    key = db.session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).one()
    listed = page(app, client, f"/{role}/keys")
    assert secret not in listed and key.prefix in listed and "CRM" in listed

    assert post(app, client, f"/{role}/keys/{key.id}/revoke").status_code == 303
    db.session.expire_all()
    assert client.get("/api/v1/balance", headers=auth(secret)).status_code == 401
    (theirs,) = db.session.scalars(select(ApiKey).where(ApiKey.user_id == rival.id)).all()
    post(app, client, f"/{role}/keys/{theirs.id}/revoke")
    assert "Not done: No such API key." in page(app, client, f"/{role}/keys")
    db.session.expire_all()
    assert db.session.get(ApiKey, theirs.id).revoked_at is None


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_a_key_name_too_long_is_refused_with_its_field(app, client, ctx, role):
    user = make_user(role)
    signed_in(app, client, user)

    refused = post(app, client, f"/{role}/keys", {"name": "x" * 121})

    assert refused.status_code == 422
    assert "At most 120 characters." in refused.get_data(as_text=True)
    assert db.session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).all() == []


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_the_keys_page_is_in_the_portals_navigation_and_not_in_the_other_roles(app, client, ctx, role):
    signed_in(app, client, make_user(role))

    assert f'href="/{role}/keys"' in page(app, client, f"/{role}/")
    assert request(app, client, "GET", f"/{OTHER_ROLE[role]}/keys").status_code == 403


@pytest.mark.parametrize("role", ["advertiser", "webmaster"])
def test_a_key_is_not_made_without_the_csrf_token(app, client, ctx, monkeypatch, role):
    user = make_user(role)
    signed_in(app, client, user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    refused = post(app, client, f"/{role}/keys", {"name": "CRM"})

    assert refused.status_code == 400
    assert db.session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).all() == []
