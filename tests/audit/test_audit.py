"""The audit log records who changed what; /audit is scoped."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from blueprints.regions.services import create_region
from core.audit import AuditEntry, record_change
from core.extensions import db


def test_create_update_delete_are_recorded_with_fields(as_role, world):
    c = as_role("district_staff")
    c.post(f"/regions/{world['town_a'].id}/new", data={"name": "海景社区", "code": "440802001003"})
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "create", AuditEntry.entity == "region")
                                .order_by(AuditEntry.id.desc()))
    assert created.username == "district_staff" and created.changes["name"] == "海景社区"
    assert created.region_id == created.entity_id
    c.post(f"/regions/{created.entity_id}/edit", data={"name": "观海社区", "code": "440802001003"})
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity_id == created.entity_id))
    assert updated.changes == {"name": ["海景社区", "观海社区"]}
    c.post(f"/regions/{created.entity_id}/delete")
    deleted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delete", AuditEntry.entity_id == created.entity_id))
    assert deleted is not None and deleted.entity_label.endswith("观海社区")


def test_secrets_are_not_logged(as_role, world):
    as_role("org_leader").post("/account/password", data={"current": "Test@2026x", "new": "NewPass123", "confirm": "NewPass123"})
    for e in db.session.scalars(select(AuditEntry)):
        assert "password_hash" not in (e.changes or {}) and "session_token" not in (e.changes or {})


def test_masked_fields_are_masked(app, world):
    # A model that declares a phone mask has it applied in the log.
    from core.audit import _mask

    class Holder:
        __audit_mask__ = {"phone": "phone"}

    assert _mask(Holder(), "phone", "13812345678") == "138****5678"


def test_record_change_for_workflow_steps(app, world):
    db.session.info["actor"] = (world["city_admin"].id, "city_admin")
    try:
        record_change("transition", world["org_a"], "批准登记：材料齐全")
        db.session.commit()
    finally:
        db.session.info.pop("actor")
    e = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "transition"))
    assert e.summary == "批准登记：材料齐全" and e.org_id is None or e.entity_id == world["org_a"].id


@pytest.mark.parametrize("role,status", [
    ("city_admin", 200), ("district_staff", 200), ("org_leader", 200), ("leader", 403), ("reviewer", 403),
])
def test_audit_page_by_role(as_role, role, status):
    assert as_role(role).get("/audit/").status_code == status


def test_audit_page_is_scoped_to_the_district(as_role, world):
    create_region(world["town_b"], "霞山秘密社区", "440803001005")
    create_region(world["town_a"], "赤坎公开社区", "440802001005")
    db.session.commit()
    # Entries were written with no actor (system): make them visible in their districts only.
    body = as_role("district_staff").get("/audit/").get_data(as_text=True)
    assert "赤坎公开社区" in body and "霞山秘密社区" not in body
    body = as_role("city_admin").get("/audit/").get_data(as_text=True)
    assert "赤坎公开社区" in body and "霞山秘密社区" in body


def test_audit_filters(as_role, world):
    c = as_role("city_admin")
    c.post(f"/regions/{world['town_a'].id}/new", data={"name": "海景社区"})
    body = c.htmx_get("/audit/?action=create&q=海景").get_data(as_text=True)
    assert "海景社区" in body and "<html" not in body
    body = c.htmx_get("/audit/?action=delete").get_data(as_text=True)
    assert "海景社区" not in body
    assert c.get("/audit/?from=not-a-date&to=2026-13-45").status_code == 200


def test_log_and_home_tile_name_the_actor_by_display_name(world, as_role):
    world["district_staff"].display_name = "赤坎区张科长"
    db.session.commit()
    staff = as_role("district_staff")
    staff.post(f"/regions/{world['town_a'].id}/new", data={"name": "望海社区", "code": "440802001004"})
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.username == "district_staff")) is not None
    admin = as_role("city_admin")  # another user: the name is not just the header's own
    assert "赤坎区张科长" in admin.get("/audit/").get_data(as_text=True)
    assert "赤坎区张科长" in admin.get("/").get_data(as_text=True)
