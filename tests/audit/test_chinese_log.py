"""The operation log speaks Chinese: every record has a Chinese label and noun, every action its verb,
every field its Chinese name and every value its Chinese reading — never a repr, a table name or a code."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from blueprints.reports import services as report_services
from blueprints.volunteers.models import Certificate
from core import audit
from core.audit import AuditEntry
from core.extensions import db
from core.timeutil import cn_date, local_today
from core.workflow import VERBS, StepMixin, verb
from tests import factories

CJK = re.compile(r"[\u4e00-\u9fff]")
TABLE_REF = re.compile(r"[a-z]+_[a-z]+#\d+")
REPR = re.compile(r"<[A-Z][a-zA-Z]+ ")
TODAY = local_today()


def _text(html: str) -> str:
    """What a reader sees: the page without its tags and attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- the contract every audited model fulfils ---------------------------------------------------

def test_every_audited_model_has_a_chinese_noun_and_every_audited_column_a_chinese_name(app):
    models = audit.audited_models()
    assert len(models) > 30
    for cls in models:
        assert CJK.search(getattr(cls, "__audit_noun__", "") or ""), f"{cls.__name__} has no Chinese __audit_noun__"
        assert "audit_label" in dir(cls), f"{cls.__name__} has no audit_label"
        for key in audit.audited_columns(cls):
            assert CJK.search(audit.field_label(cls, key)), f"{cls.__name__}.{key} has no Chinese name"
            enum_class = getattr(cls.__table__.c[key].type, "enum_class", None)
            for member in enum_class or ():  # an enum value reads as its Chinese label
                assert CJK.search(audit.display_value(cls, key, member.value)), f"{cls.__name__}.{key}={member}"


def test_every_action_of_every_workflow_has_a_chinese_verb(app):
    from blueprints.awards.services import TRANSITIONS as AWARDS
    from blueprints.funding.services import PROJECT_TRANSITIONS
    from blueprints.orgs.workflow import TRANSITIONS as ORGS
    from blueprints.projects.services import TRANSITIONS as VOLUNTEER_PROJECTS
    from blueprints.reports.services import TRANSITIONS as REPORTS

    from blueprints.awards.services import STAGE_ACTIONS

    tables = {"organization": ORGS, "funding_project": PROJECT_TRANSITIONS, "award_nomination": AWARDS,
              "monthly_report": {a for _, a in REPORTS}, "award_campaign": STAGE_ACTIONS,
              "theme_plan": ("publish", "withdraw"), "volunteer_project": VOLUNTEER_PROJECTS}
    for table, actions in tables.items():
        for action in actions:
            assert CJK.search(verb(action, table)) and verb(action, table) != "操作", (table, action)
    for key, value in VERBS.items():
        assert CJK.search(value), key
    # the timelines read the same table
    steps = [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, StepMixin)]
    assert len(steps) == 5 and all(s.step_of() for s in steps)  # orgs, funding, nominations, reports, projects


def test_every_action_written_in_the_code_has_a_verb(app):
    """A literal action passed to record_change / record_event anywhere is a key of the verb table."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = 0
    for path in [*root.glob("blueprints/**/*.py"), *root.glob("core/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("record_change", "record_event") \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found += 1
                assert node.args[0].value in audit.ACTION_LABELS, f"{path}:{node.lineno} {node.args[0].value}"
    assert found > 15


def test_labels_of_new_rows_name_their_volunteer_and_month_not_a_repr(app, world):
    leader = world["org_leader"]
    v = factories.activity_volunteer(world["org_a"], name="张三", registered_on=date(2022, 3, 1))
    rec = factories.service_record(v, world["org_a"], date(2026, 11, 3) if TODAY >= date(2026, 11, 3)
                                   else TODAY - timedelta(days=3), "4", verified=False, by=leader)
    y, m = report_services.default_period(TODAY)
    report = factories.monthly_report(leader, world["org_a"], y, m)
    db.session.commit()
    rec_label = db.session.scalar(select(AuditEntry.entity_label).where(
        AuditEntry.entity == "service_record", AuditEntry.entity_id == rec.id, AuditEntry.action == "create"))
    assert rec_label == f"服务记录（张三 {cn_date(rec.service_date)} 4.0 小时）"
    report_label = db.session.scalar(select(AuditEntry.entity_label).where(
        AuditEntry.entity == "monthly_report", AuditEntry.entity_id == report.id))
    assert report_label == f"{y} 年 {m} 月月报（{world['org_a'].name}）"


def test_values_read_as_people_write_them(app, world):
    from blueprints.funding.models import LedgerEntry
    from blueprints.reports.models import MonthlyReport
    from blueprints.volunteers.models import ServiceRecord

    rows = audit.describe_changes("monthly_report", {"status": ["draft", "submitted"], "theme_held": True})
    assert rows[0] == ("状态", "草稿", "已提交")
    assert audit.display_value(MonthlyReport, "figures_frozen_at", "2026-11-03T06:05:00") == "2026年11月3日 14:05"
    assert audit.display_value(LedgerEntry, "amount", "1234.5") == "¥1,234.50"
    assert audit.display_value(LedgerEntry, "entry_date", "2026-11-03") == "2026年11月3日"
    assert audit.display_value(ServiceRecord, "corrected", False) == "否"
    assert audit.display_value(ServiceRecord, "late_entry", True) == "是"
    assert audit.display_value(ServiceRecord, "organization_id", world["org_a"].id) == world["org_a"].name
    assert audit.display_value(ServiceRecord, "recorded_by_id", world["org_leader"].id) in (
        world["org_leader"].display_name, "org_leader")


# ---- the whole path: actions through the routes, read on /audit ------------------------------------

@pytest.fixture
def acted(world, as_role):
    """A report submitted and accepted, a certificate issued and voided, a service record verified,
    an organization's registration approved — each through its route, as its users would."""
    w = world
    leader, staff = as_role("org_leader"), as_role("district_staff")
    v = factories.activity_volunteer(w["org_a"], name="欧阳娜娜", registered_on=date(2022, 3, 1))
    factories.service_record(v, w["org_a"], TODAY - timedelta(days=20), "3", content="社区长者探访", by=w["org_leader"])
    pending = factories.service_record(v, w["org_a"], TODAY - timedelta(days=2), "4", verified=False,
                                       by=w["org_leader"])
    y, m = report_services.default_period(TODAY)
    report = factories.monthly_report(w["org_leader"], w["org_a"], y, m)
    applicant, _ = factories.org_with_leader(w["town_a"], name="赤坎区海湾社区志愿服务队")
    db.session.commit()

    assert leader.post(f"/reports/{report.id}/transition", data={"action": "submit"}).status_code == 303
    assert staff.post(f"/reports/{report.id}/transition", data={"action": "accept"}).status_code == 303
    assert leader.post(f"/volunteers/{v.id}/certificates/new", data={
        "organization_id": w["org_a"].id, "person_in_charge": "王芳", "period_start": "2022-03-01",
        "period_end": TODAY.isoformat()}).status_code == 303
    cert = db.session.scalar(select(Certificate))
    assert leader.post(f"/volunteers/certificates/{cert.id}/revoke",
                       data={"reason": "时长有误，重新出具"}).status_code == 303
    assert leader.post(f"/volunteers/records/{pending.id}/verify").status_code == 303
    assert staff.post(f"/orgs/{applicant.id}/transition", data={"action": "approve"}).status_code == 303
    db.session.expire_all()
    return dict(report=report, period=(y, m), cert=db.session.get(Certificate, cert.id), record=pending,
                volunteer=v, applicant=applicant)


def test_the_log_names_records_and_steps_in_chinese(acted, world, as_role):
    html = as_role("city_admin").htmx_get("/audit/").get_data(as_text=True)
    text = _text(html)
    y, m = acted["period"]
    assert f"{y} 年 {m} 月月报（{world['org_a'].name}）" in text
    assert f"记录证明 {acted['cert'].serial}" in text
    r = acted["record"]
    assert f"服务记录（欧阳娜娜 {cn_date(r.service_date)} 4.0 小时）" in text
    assert "赤坎区海湾社区志愿服务队" in text
    for verb_ in ("提交", "审核通过", "出具", "作废"):
        assert f" {verb_} " in text, verb_
    # field names and values in Chinese: the report's status change, the certificate's revocation
    assert "状态" in text and "已提交" in text and "已通过" in text and "已作废" in text
    assert not TABLE_REF.search(text), TABLE_REF.findall(text)
    assert not REPR.search(text), REPR.findall(text)
    for code in ("monthly_report", "volunteer_certificate", "service_record", "submitted", "accepted",
                 "pending", "revoked", "status", "transition"):
        assert code not in text, code


def test_a_workflow_step_is_one_line_with_its_verb_not_a_change(acted):
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "monthly_report", AuditEntry.entity_id == acted["report"].id)
        .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries][-2:] == ["submit", "accept"]
    assert [e.action_label for e in entries][-2:] == ["提交", "审核通过"]
    assert all(e.action != "update" for e in entries)
    submit = entries[-2]
    assert ("状态", "草稿", "已提交") in submit.change_rows
    cert_entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "volunteer_certificate").order_by(AuditEntry.id)).all()
    assert [e.action_label for e in cert_entries] == ["出具", "作废"]
    assert all(e.entity_label == f"记录证明 {acted['cert'].serial}" for e in cert_entries)
    verified = db.session.scalar(select(AuditEntry).where(
        AuditEntry.entity == "service_record", AuditEntry.entity_id == acted["record"].id,
        AuditEntry.action == "verify"))
    assert verified is not None and verified.action_label == "审核通过"
    org_entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.entity == "organization", AuditEntry.entity_id == acted["applicant"].id)
        .order_by(AuditEntry.id.desc()))
    assert org_entry.action == "approve" and org_entry.action_label == "审核通过"


def test_home_tile_shows_labels_and_verbs(acted, as_role):
    text = _text(as_role("city_admin").get("/").get_data(as_text=True))
    assert "最近操作" in text and "审核通过" in text
    assert not TABLE_REF.search(text) and not REPR.search(text)


def test_old_entries_without_a_proper_label_are_named_at_display_time(world, as_role):
    leader = world["org_leader"]
    y, m = report_services.default_period(TODAY)
    report = factories.monthly_report(leader, world["org_a"], y, m)
    db.session.commit()
    base = dict(username="org_leader", region_id=None, org_id=None, changes=None)
    db.session.add_all([
        AuditEntry(action="create", entity="monthly_report", entity_id=report.id,
                   entity_label="<MonthlyReport (pending 140315061239)>", **base),
        AuditEntry(action="transition", entity="volunteer_certificate", entity_id=99999,
                   entity_label="记录证明 pending", summary="作废记录证明：测试", **base),
        AuditEntry(action="update", entity="service_record", entity_id=200828, entity_label="", **base),
    ])
    db.session.commit()
    text = _text(as_role("city_admin").htmx_get("/audit/").get_data(as_text=True))
    assert f"{y} 年 {m} 月月报（{world['org_a'].name}）" in text
    assert "记录证明 #99999" in text and "服务记录 #200828" in text and "办理" in text
    assert not TABLE_REF.search(text) and not REPR.search(text) and "pending" not in text


def test_the_filter_offers_each_verb_once_and_finds_all_its_actions(acted, as_role):
    c = as_role("city_admin")
    page = c.get("/audit/").get_data(as_text=True)
    options = re.findall(r'<option value="[a-z_]+"[^>]*>([^<]+)</option>', page)
    assert options.count("审核通过") == 1 and "出具" in options
    text = _text(c.htmx_get("/audit/?action=approve").get_data(as_text=True))
    assert "月报（" in text and "服务记录（" in text and "赤坎区海湾社区志愿服务队" in text  # accept, verify, approve
    assert " 出具 " not in text and " 提交 " not in text
