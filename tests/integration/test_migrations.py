"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

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
