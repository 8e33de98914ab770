"""A fresh, empty database of the kind the suite runs on: a SQLite file, or (under make test-pg) a
throw-away PostgreSQL database next to the test database, dropped afterwards."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine


def on_postgresql() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@contextmanager
def fresh_database_url(tmp_path: Path, dialect: str | None = None):
    dialect = dialect or ("postgresql" if on_postgresql() else "sqlite")
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh-{uuid.uuid4().hex[:8]}.db"
        return
    name = f"zhiyuan_tmp_{uuid.uuid4().hex[:8]}"
    admin = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
