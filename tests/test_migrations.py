"""The schema comes from Alembic migrations, and they match the models."""
from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from core.extensions import db


def test_migrations_build_the_schema_of_the_models(tmp_path):
    url = os.environ.get("TEST_MIGRATIONS_DATABASE_URL") or f"sqlite:///{tmp_path}/migrated.db"
    # Keys given as the environment would (PostgreSQL refuses to start without them, config.ensure_keys).
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "k", "PII_KEY": "p"})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.Model.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    summary = [f"{d[0]} {getattr(d[1], 'name', '')}" if isinstance(d, tuple) else str(d)[:120] for d in diff]
    assert not diff, f"models and migrations differ (run flask db migrate): {summary[:20]}"
    assert {"region", "user", "organization", "audit_entry"} <= tables
