"""What must never be stored, even by a bug: CHECK constraints in the models and in the migrated
schema, raw SQL that breaks them refused, and ids never handed out twice."""
from __future__ import annotations

import datetime as dt
import os
from datetime import date
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import CheckConstraint, Enum, Integer, inspect, select, text
from sqlalchemy.exc import DataError, IntegrityError

from app import create_app
from core.extensions import db
from tests import factories
from tests.core.throwaway import fresh_database_url, on_postgresql

# PostgreSQL refuses to start without keys from the environment (config.ensure_keys): tests pass their own.
KEYS = {"SECRET_KEY": "test-secret", "PII_KEY": "dGVzdC1waWkta2V5LXRlc3QtcGlpLWtleS10ZXN0LTE="}


def _model_checks() -> dict[str, dict[str, str]]:
    """table → {constraint name: its SQL condition} of every named CHECK of the models."""
    out: dict[str, dict[str, str]] = {}
    for table in db.Model.metadata.sorted_tables:
        checks = {c.name: _condition(c) for c in table.constraints if isinstance(c, CheckConstraint)}
        if checks:
            out[table.name] = checks
    return out


def _condition(check: CheckConstraint) -> str:
    sql = check.sqltext.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    return str(sql).replace(f'"{check.table.name}".', "").replace(f"{check.table.name}.", "")


def _autoincrement_tables() -> set[str]:
    return {t.name for t in db.Model.metadata.sorted_tables
            if [c.name for c in t.primary_key.columns] == ["id"] and isinstance(t.c.id.type, Integer)}


# ---- the models ------------------------------------------------------------------------------------

def test_every_enum_column_is_limited_to_its_values():
    missing = []
    for table in db.Model.metadata.sorted_tables:
        names = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        for col in table.columns:
            if isinstance(col.type, Enum) and f"ck_{table.name}_{col.name}_enum" not in names:
                missing.append(f"{table.name}.{col.name}")
    assert not missing


def test_every_table_with_an_integer_key_never_reuses_ids_on_sqlite():
    tables = {t.name: t for t in db.Model.metadata.sorted_tables}
    assert {"volunteer", "service_record", "organization", "user", "audit_entry"} <= _autoincrement_tables()
    assert all(tables[n].dialect_options["sqlite"]["autoincrement"] for n in _autoincrement_tables())


# ---- the migrated schema (SQLite always; PostgreSQL under make test-pg) -------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request, tmp_path):
    """An app on a fresh database built by the migrations (a throw-away database on PostgreSQL)."""
    if request.param == "postgresql" and not on_postgresql():
        pytest.skip("PostgreSQL only under make test-pg (TEST_DATABASE_URL)")
    with fresh_database_url(tmp_path, request.param) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **KEYS})
        with app.app_context():
            upgrade(directory=os.path.join(app.root_path, "migrations"))
            yield app
            db.session.remove()
            db.engine.dispose()


def test_migrated_schema_holds_every_check_constraint_of_the_models(migrated):
    insp = inspect(db.engine)
    missing = []
    for table, checks in _model_checks().items():
        have = {c["name"] for c in insp.get_check_constraints(table)}
        missing += [f"{table!r}: ({n!r}, {checks[n]!r})" for n in sorted(set(checks) - have)]
    # A new str_enum column or a new CHECK in a model needs its constraint in a migration too
    # (autogenerate does not compare CHECKs): e.g. add these lines to a migration's CHECKS.
    assert not missing, "constraints of the models missing from the migrations:\n" + "\n".join(missing)


def test_migrated_sqlite_tables_use_autoincrement(migrated):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sequences never reuse ids")
    with db.engine.connect() as conn:
        sql = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    without = sorted(t for t in _autoincrement_tables() if "AUTOINCREMENT" not in sql[t].upper())
    assert not without


def test_migration_rebuilding_tables_keeps_rows_and_their_links(tmp_path):
    """The SQLite rebuild (copy, drop, rename) must not cascade the drop of a parent to its children."""
    url = f"sqlite:///{tmp_path}/data.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **KEYS})
    with app.app_context():
        migrations = os.path.join(app.root_path, "migrations")
        upgrade(directory=migrations, revision="0005_award_activity")
        now = dt.datetime(2026, 1, 1)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO region (id, code, name, level, path, sort, active, created_at) "
                "VALUES (1, '440800', '湛江市', 'city', '/1/', 0, 1, :now)"), {"now": now})
            conn.execute(text(
                "INSERT INTO \"user\" (id, username, display_name, password_hash, role, region_id, status, "
                "failed_logins, session_token, created_at, updated_at, must_change_password) "
                "VALUES (7, 'admin', '管理员', 'x', 'city_admin', 1, 'active', 0, 't', :now, :now, 0)"),
                {"now": now})
            conn.execute(text(
                "INSERT INTO audit_entry (at, user_id, username, action, entity, entity_id, entity_label, "
                "summary) VALUES (:now, 7, 'admin', 'login', 'user', 7, 'admin', '')"), {"now": now})
        upgrade(directory=migrations)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT user_id FROM audit_entry")).scalar_one() == 7
            assert conn.execute(text('SELECT region_id FROM "user"')).scalar_one() == 1
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1  # back on afterwards
        db.engine.dispose()


# ---- raw SQL that breaks a rule is refused -------------------------------------------------------------

@pytest.fixture
def rows(world):
    from blueprints.regions.models import RegionYearFigure

    v = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    rec = factories.service_record(v, world["org_a"], hours="2")
    entry = factories.ledger_entry(world["org_a"], amount="100.00")
    project = factories.service_project(world["district_a"], world["org_a"])
    policy = factories.insurance_policy(world["org_a"])
    act = factories.activity(world["org_a"])
    fig = db.session.scalar(select(RegionYearFigure).limit(1))
    if fig is None:
        fig = RegionYearFigure(region_id=world["district_a"].id, year=1999, population=100000)
        db.session.add(fig)
    db.session.commit()
    return {"service_record": rec.id, "funding_entry": entry.id, "funding_project": project.id,
            "insurance_policy": policy.id, "activity": act.id, "region_year_figure": fig.id,
            "user": world["org_leader"].id, "volunteer": v.id}


def _set(table: str, column: str, value, row_id: int) -> None:
    if isinstance(value, Decimal) and db.engine.dialect.name == "sqlite":
        value = float(value)  # what SQLAlchemy's Numeric binds on SQLite too
    with db.session.begin_nested():
        db.session.execute(text(f'UPDATE "{table}" SET {column} = :v WHERE id = :id'), {"v": value, "id": row_id})


BROKEN = [
    ("service_record", "hours", 0),
    ("service_record", "hours", -2),
    ("service_record", "hours", Decimal("24.5")),
    ("service_record", "status", "approved"),
    ("funding_entry", "amount", Decimal("1000000000000")),
    ("funding_entry", "amount", Decimal("-1000000000000")),
    ("funding_entry", "kind", "gift"),
    ("funding_project", "amount", Decimal("-0.01")),
    ("insurance_policy", "premium", Decimal("99999999999999")),
    ("insurance_policy", "head_count", -1),
    ("activity", "participant_count", -1),
    ("region_year_figure", "population", -5),
    ("user", "role", "superuser"),
    ("volunteer", "status", "deleted"),
]


@pytest.mark.parametrize("table,column,value", BROKEN, ids=[f"{t}.{c}={v}" for t, c, v in BROKEN])
def test_raw_sql_breaking_a_rule_is_refused(rows, table, column, value):
    # PostgreSQL's numeric(14,2) refuses an overflow on its own (DataError) before the CHECK does.
    with pytest.raises((IntegrityError, DataError)):
        _set(table, column, value, rows[table])


@pytest.mark.parametrize("table,column,value", [
    ("service_record", "hours", Decimal("24")),
    ("service_record", "hours", Decimal("0.5")),
    ("funding_entry", "amount", Decimal("-999999999999.99")),
    ("funding_entry", "amount", Decimal("999999999999.99")),
    ("funding_project", "amount", Decimal("0")),
    ("region_year_figure", "population", 0),
])
def test_values_at_the_edge_of_a_rule_are_stored(rows, table, column, value):
    _set(table, column, value, rows[table])
    stored = db.session.execute(text(f'SELECT {column} FROM "{table}" WHERE id = :id'),
                                {"id": rows[table]}).scalar_one()
    assert Decimal(str(stored)) == value


def test_money_is_stored_to_the_fen(rows):
    """SQLite keeps any number in a NUMERIC column: the CHECK refuses a third decimal. PostgreSQL's
    numeric(14,2) rounds it to the fen by its type."""
    if db.engine.dialect.name == "sqlite":
        with pytest.raises(IntegrityError):
            _set("funding_entry", "amount", Decimal("10.005"), rows["funding_entry"])
    else:
        _set("funding_entry", "amount", Decimal("10.005"), rows["funding_entry"])
        stored = db.session.execute(text("SELECT amount FROM funding_entry WHERE id = :id"),
                                    {"id": rows["funding_entry"]}).scalar_one()
        assert Decimal(str(stored)).as_tuple().exponent >= -2


# ---- ids are never reused -------------------------------------------------------------------------------

def test_a_deleted_records_id_is_never_given_to_a_new_one(world):
    from blueprints.funding.models import LedgerEntry

    first = factories.ledger_entry(world["org_a"], amount="10.00")
    db.session.commit()
    gone = first.id
    db.session.delete(first)
    db.session.commit()
    again = factories.ledger_entry(world["org_a"], amount="20.00")
    db.session.commit()
    assert again.id > gone
    assert db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.id == gone)) is None
