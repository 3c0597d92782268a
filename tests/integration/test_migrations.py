"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exchange.extensions import db


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_0020_goes_down_and_up_again_and_refuses_to_drop_vertical_clicks(tmp_path):
    """On a database of its own (SQLite, where batch mode rebuilds the clicks table)."""
    import pytest
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from exchange.db import commit
    from exchange.tracking.links import vertical_target_of
    from exchange.tracking.services import record_vertical_click
    from tests.conftest import _build_app
    from tests.exchange_factories import make_seller, make_vertical
    from tests.factories import make_user

    app = _build_app(f"sqlite:///{tmp_path / 'round-trip.sqlite'}", str(tmp_path / "instance"))
    with app.app_context(), app.test_request_context():
        upgrade()
        downgrade(revision="0019")
        assert "vertical_id" not in {column["name"] for column in inspect(db.engine).get_columns("clicks")}
        upgrade()
        seller = make_seller(make_user("webmaster"), make_vertical())
        record_vertical_click(vertical_target_of(seller, seller.vertical, "active"), {}, None, None)
        commit()

        with pytest.raises(SystemExit):  # flask-migrate's answer to the migration's RuntimeError
            downgrade(revision="0019")
        assert "vertical_id" in {column["name"] for column in inspect(db.engine).get_columns("clicks")}
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def own_database_url(tmp_path):
    """A database of the test's own: a SQLite file, or on the services suite a PostgreSQL
    database beside the run's (where 0022's triggers are PL/pgSQL)."""
    from tests.conftest import BACKEND

    if BACKEND != "services":
        yield f"sqlite:///{tmp_path / 'round-trip.sqlite'}"
        return
    import os

    from tests.services_config import own_postgres_database

    with own_postgres_database(f"lx_round_trip_{os.getpid()}") as url:
        yield url


def test_0022_goes_down_and_up_again_and_hashes_the_leads_already_there(own_database_url, tmp_path):
    """The leads from before 0022 get the same keyed hashes intake gives a new lead, so
    their duplicates are caught after an erasure too; down and up again on either backend."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, select

    from exchange.db import commit
    from exchange.leads.models import Lead
    from tests.conftest import _build_app
    from tests.factories import lead_fields, make_join, make_offer, make_user
    from tests.integration.helpers import submit

    app = _build_app(own_database_url, str(tmp_path / "instance"))
    with app.app_context(), app.test_request_context():
        upgrade()
        offer = make_offer(make_user("advertiser"))
        webmaster = make_user("webmaster")
        make_join(webmaster, offer)
        lead_id = submit(webmaster, offer, lead_fields())
        hashes = db.session.execute(select(Lead.email_hash, Lead.phone_hash).where(Lead.id == lead_id)).one()
        assert all(hashes)
        db.session.remove()

        downgrade(revision="0021")
        assert "email_hash" not in {column["name"] for column in inspect(db.engine).get_columns("leads")}
        assert "erasures" not in inspect(db.engine).get_table_names()
        upgrade()
        assert (
            db.session.execute(select(Lead.email_hash, Lead.phone_hash).where(Lead.id == lead_id)).one()
            == hashes
        )
        commit()
        db.session.remove()
        db.engine.dispose()
