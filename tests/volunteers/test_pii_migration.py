"""Migration 0007_pii converts an existing database: birth date → birth year, plain last 4 → keyed
search key, old masks (also those copied into the audit log) → the new mask; and back."""
from __future__ import annotations

import json
import os
from datetime import date, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from core import pii
from core.extensions import db
from tests import factories


def test_upgrade_converts_existing_volunteers_and_old_masks(tmp_path):
    url = os.environ.get("TEST_MIGRATIONS_DATABASE_URL") or f"sqlite:///{tmp_path}/old.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PII_KEY": "migration-test-key"})
    directory = os.path.join(app.root_path, "migrations")
    number = factories.id_number(date(1984, 7, 9), sex="女", area="440803")
    old_mask = number[:4] + "*" * 10 + number[-4:]
    with app.app_context():
        upgrade(directory=directory, revision="0005_award_activity")
        now = datetime(2020, 1, 1, 8, 0)
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO volunteer (number, name, sex, birth_date, id_number_enc, id_hash, id_last4, id_masked,"
                " phone, phone_last4, political_status, public_servant, availability, registered_on, status,"
                " dismiss_note, guardian_name, guardian_phone, guardian_relation, guardian_consent, total_hours,"
                " created_at, updated_at) VALUES ('440803000001', '旧档案', '女', :birth, :enc, :hash, :last4, :mask,"
                " '', '', 'masses', false, '', :reg, 'active', '', '', '', '', false, 0, :now, :now)"),
                {"birth": date(1984, 7, 9), "enc": pii.encrypt(number), "hash": pii.lookup_hash(number),
                 "last4": number[-4:], "mask": old_mask, "reg": date(2020, 1, 1), "now": now})
            vid = conn.execute(sa.text("SELECT id FROM volunteer")).scalar_one()
            # A row pointing at the volunteer (ON DELETE CASCADE): rebuilding the table must keep it.
            conn.execute(sa.text("INSERT INTO volunteer_skill (volunteer_id, skill) VALUES (:vid, '扶老')"), {"vid": vid})
            conn.execute(sa.text(
                "INSERT INTO audit_entry (at, username, action, entity, entity_id, entity_label, summary, changes)"
                " VALUES (:now, '系统', 'create', 'volunteer', :vid, '旧档案', '', :changes)"),
                {"now": now, "vid": vid,
                 "changes": json.dumps({"id_masked": old_mask, "sex": "女"}, ensure_ascii=False)})

        upgrade(directory=directory)
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM volunteer")).mappings().one()
            changes = conn.execute(sa.text("SELECT changes FROM audit_entry")).scalar_one()
            skills = conn.execute(sa.text("SELECT volunteer_id, skill FROM volunteer_skill")).all()
        assert skills == [(row["id"], "扶老")]
        assert "birth_date" not in row and "id_last4" not in row
        assert row["birth_year"] == 1984 and row["id_masked"] == "4408" + "*" * 14
        assert row["id_last4_hash"] == pii.last4_key(number, 1984)
        assert pii.decrypt(row["id_number_enc"]) == number
        assert old_mask not in str(changes) and "4408" + "*" * 14 in str(changes)

        downgrade(directory=directory, revision="0005_award_activity")
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM volunteer")).mappings().one()
        assert str(row["birth_date"]) == "1984-07-09" and row["id_last4"] == number[-4:]
        assert "birth_year" not in row
        with db.engine.begin() as conn:  # leave a shared (PostgreSQL) test database as the next test expects
            conn.execute(sa.text("DELETE FROM audit_entry"))
            conn.execute(sa.text("DELETE FROM volunteer_skill"))
            conn.execute(sa.text("DELETE FROM volunteer"))
        upgrade(directory=directory)
        db.engine.dispose()
