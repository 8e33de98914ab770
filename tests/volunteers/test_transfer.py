"""Transfer files (异地转移和接续): export, then import with preview, matching by ID number, errors."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.volunteers import ledger, transfer
from blueprints.volunteers.models import RecordSource, RecordStatus, ServiceRecord, TrainingRecord, Volunteer
from core import pii
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import local_today
from core.validators import mask_id_number
from tests import factories

TODAY = local_today()


def _doc(id_number: str, records=None, **person) -> dict:
    p = {"name": "陈晓明", "sex": "男", "birth_year": 1990, "id_number_masked": mask_id_number(id_number),
         "volunteer_number": "440103000042", "registered_on": "2021-03-05", "political_status": "中共党员",
         "public_servant": False, "skills": ["扶老"], "availability": "周末"}
    p.update(person)
    return {
        "format": "zhiyuan.volunteer-record", "version": 2, "exported_at": "2026-05-01T10:00:00+08:00",
        "source": {"system": "志愿服务管理平台", "office": "广州市文明办", "organization": "越秀区志愿服务队"},
        "volunteer": p,
        "service_records": records if records is not None else [
            {"uid": "440103000042/s/1", "date": "2025-06-01", "hours": "2.5", "content": "社区环境清洁",
             "quality": "良好", "recording_unit": "越秀区志愿服务队"},
            {"uid": "440103000042/s/2", "date": "2025-07-01", "hours": "4", "content": "关爱长者",
             "quality": "优秀", "recording_unit": "越秀区志愿服务队"},
        ],
        "trainings": [{"uid": "440103000042/t/1", "name": "志愿者通识培训", "content": "", "hours": "3",
                       "host_unit": "广州市志愿者学院", "date": "2024-04-01"}],
        "awards": [{"uid": "440103000042/a/1", "name": "优秀志愿者", "date": "2025-12-05", "granting_unit": "越秀区文明办"}],
    }


def _upload(c, w, doc, id_number, raw: bytes | None = None):
    raw = raw if raw is not None else json.dumps(doc, ensure_ascii=False).encode()
    return c.post("/volunteers/transfer/import", data={
        "organization_id": w["org_a"].id, "id_number": id_number, "phone": "",
        "file": (io.BytesIO(raw), "transfer.json")}, content_type="multipart/form-data")


@pytest.fixture
def number():
    return factories.id_number(date(1990, 5, 17), sex="男", area="440103")


def test_export_is_versioned_documented_and_masked(world, as_role):
    v = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    factories.service_record(v, world["org_a"], TODAY - timedelta(days=3), "2", by=world["org_leader"])
    factories.service_record(v, world["org_a"], TODAY - timedelta(days=2), "5", verified=False, by=world["org_leader"])
    ledger.add_training(world["org_leader"], v, world["org_a"], "急救培训", "", "2", "红十字会", TODAY)
    db.session.commit()
    full = pii.decrypt(v.id_number_enc)
    c = as_role("org_leader")
    assert c.get(f"/volunteers/{v.id}/transfer.json").status_code == 405  # a logged export is a POST
    resp = c.post(f"/volunteers/{v.id}/transfer.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    doc = json.loads(resp.data)
    assert doc["format"] == transfer.FORMAT and doc["version"] == transfer.VERSION
    assert doc["volunteer"]["id_number_masked"] == v.id_masked and full not in resp.get_data(as_text=True)
    # Neither the birth date nor the last four characters (docs/security-pii.md).
    assert "birth_date" not in doc["volunteer"] and doc["volunteer"]["birth_year"] == int(full[6:10])
    assert full[6:14] not in resp.get_data(as_text=True) and full[-4:] not in doc["volunteer"]["id_number_masked"]
    assert len(doc["service_records"]) == 1 and doc["totals"]["verified_hours"] == "2.0"  # pending not exported
    assert doc["trainings"][0]["name"] == "急救培训"
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")))
    assert entries and all(full not in f"{e.summary}{e.changes}" for e in entries)
    assert as_role("org_leader_2").post(f"/volunteers/{v.id}/transfer.json").status_code == 404
    assert as_role("leader").post(f"/volunteers/{v.id}/transfer.json").status_code == 403
    assert c.post(f"/volunteers/{v.id}/transfer.json", csrf=False).status_code == 400


def test_import_a_new_person_with_preview_and_confirmation(world, as_role, number):
    c = as_role("org_leader")
    resp = _upload(c, world, _doc(number), number)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "将导入" in body and number not in body
    token = body.split('name="token" value="')[1].split('"')[0]
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0  # nothing before confirmation
    resp = c.post("/volunteers/transfer/confirm", data={"token": token})
    assert resp.status_code == 303
    v = db.session.scalar(select(Volunteer))
    assert v.name == "陈晓明" and v.id_hash == pii.lookup_hash(number)
    recs = list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id)))
    assert {r.status for r in recs} == {RecordStatus.VERIFIED} and {r.source for r in recs} == {RecordSource.TRANSFER}
    assert {r.recording_unit for r in recs} == {"越秀区志愿服务队"}
    assert str(v.total_hours) == "6.5"
    assert db.session.scalar(select(TrainingRecord.name)) == "志愿者通识培训"
    for entry in db.session.scalars(select(AuditEntry)):  # the typed ID number never reaches the log
        assert number not in f"{entry.summary} {entry.changes} {entry.entity_label}"
    # the same file again: everything already there is skipped
    body = _upload(c, world, _doc(number), number).get_data(as_text=True)
    assert "已导入过" in body and "将导入" not in body
    # a used token does not work twice
    resp = c.post("/volunteers/transfer/confirm", data={"token": token})
    assert resp.status_code == 303 and "transfer/import" in resp.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)) == 2


def test_import_matches_an_existing_person_by_id_number(world, as_role, number):
    existing = factories.volunteer(world["org_b"], name="陈晓明", number=number)
    db.session.commit()
    c = as_role("org_leader")
    body = _upload(c, world, _doc(number), number).get_data(as_text=True)
    assert "已匹配本系统志愿者" in body
    token = body.split('name="token" value="')[1].split('"')[0]
    assert c.post("/volunteers/transfer/confirm", data={"token": token}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 1
    v = db.session.get(Volunteer, existing.id)
    assert {m.organization_id for m in v.memberships} == {world["org_a"].id, world["org_b"].id}
    assert str(v.total_hours) == "6.5"


def test_import_errors_are_shown_and_nothing_is_saved(world, as_role, number):
    c = as_role("org_leader")
    other = factories.id_number(date(1990, 5, 17), sex="男", area="440803")
    resp = _upload(c, world, _doc(number), other)
    assert resp.status_code == 422 and "脱敏号码" in resp.get_data(as_text=True)
    for other in (factories.id_number(date(1991, 5, 17), sex="男", area="440103"),
                  factories.id_number(date(1990, 5, 17), sex="女", area="440103")):
        resp = _upload(c, world, _doc(number), other)
        assert resp.status_code == 422 and "出生日期或性别与文件不一致" in resp.get_data(as_text=True)
    resp = _upload(c, world, None, number, raw=b"{not json")
    assert resp.status_code == 422 and "不是有效的 JSON" in resp.get_data(as_text=True)
    doc = _doc(number)
    doc["version"] = 99
    resp = _upload(c, world, doc, number)
    assert resp.status_code == 422 and "不支持的文件版本" in resp.get_data(as_text=True)
    resp = _upload(c, world, {"format": "other"}, number)
    assert resp.status_code == 422 and "文件格式不正确" in resp.get_data(as_text=True)
    bad_rows = [
        {"uid": "u1", "date": "2025-06-01", "hours": "20", "content": "a", "recording_unit": "某队"},
        {"uid": "u2", "date": "2025-06-01", "hours": "5", "content": "b", "recording_unit": "某队"},
        {"uid": "u2", "date": "2025-06-02", "hours": "1", "content": "c", "recording_unit": "某队"},
        {"uid": "u4", "date": (TODAY + timedelta(days=3)).isoformat(), "hours": "1", "content": "d",
         "recording_unit": "某队"},
        {"uid": "u5", "date": "2025-06-03", "hours": "-1", "content": "", "recording_unit": "某队"},
        "not a record",
    ]
    resp = _upload(c, world, _doc(number, records=bad_rows), number)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for message in ("当天合计超过 24 小时", "uid 在文件中重复", "不能晚于今天", "时长须大于 0", "缺少服务内容",
                    "记录格式不正确", "未导入任何内容"):
        assert message in body, message
    assert 'name="token"' not in body
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)) == 0
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    resp = _upload(c, world, _doc(number), "123")
    assert resp.status_code == 422


def test_import_needs_a_write_role_and_a_fresh_token(world, as_role, number):
    assert as_role("leader").get("/volunteers/transfer/import").status_code == 403
    c = as_role("org_leader")
    resp = c.post("/volunteers/transfer/confirm", data={"token": "forged"})
    assert resp.status_code == 303 and db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_a_file_exported_here_and_imported_back_does_not_count_twice(world, as_role):
    """Another organization of the same person imports this installation's own export: every record
    is already here (uid "<number>/s/<id>"), so nothing is added and the hours stay as they were."""
    v = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    factories.service_record(v, world["org_a"], TODAY - timedelta(days=3), "2", by=world["org_leader"])
    ledger.add_training(world["org_leader"], v, world["org_a"], "急救培训", "", "2", "红十字会", TODAY)
    db.session.commit()
    full = pii.decrypt(v.id_number_enc)
    c = as_role("org_leader")
    raw = c.post(f"/volunteers/{v.id}/transfer.json").data
    body = _upload(c, world, None, full, raw=raw).get_data(as_text=True)
    assert "本系统已有该记录" in body and "将导入" not in body
    token = body.split('name="token" value="')[1].split('"')[0]
    c.post("/volunteers/transfer/confirm", data={"token": token})
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)) == 1
    assert db.session.scalar(select(func.count()).select_from(TrainingRecord)) == 1
    assert str(db.session.get(Volunteer, v.id).total_hours) == "2.0"


def test_version_1_file_with_birth_date_and_old_mask_is_still_read(world, as_role, number):
    doc = _doc(number)
    doc["version"] = 1
    person = doc["volunteer"]
    del person["birth_year"]
    person["birth_date"], person["id_number_masked"] = "1990-05-17", number[:4] + "*" * 10 + number[-4:]
    c = as_role("org_leader")
    resp = _upload(c, world, doc, number)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert "确认导入" in resp.get_data(as_text=True)
    person["birth_date"] = "1990-05-18"
    body = _upload(c, world, doc, number).get_data(as_text=True)
    assert "身份证号中的出生日期或性别与文件不一致" in body
