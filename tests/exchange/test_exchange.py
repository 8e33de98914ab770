"""The platform of record (001: "社区应把志愿者的服务记录统一录入'i志愿'系统，实现互联互通"): the export
under the mapping, sent marks, re-exports skipping what was sent, the mapping editor, the read-back."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from blueprints.exchange import services
from blueprints.exchange.models import Dataset, ExchangeBatch, ExchangeMark
from core import pii
from core.exports import xlsx_bytes
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.jobs import follow_job

TODAY = local_today()
START = (TODAY - timedelta(days=40)).isoformat()


@pytest.fixture
def data(world):
    v = factories.activity_volunteer(world["org_a"], name="李娜")
    v2 = factories.activity_volunteer(world["org_a"], name="周杰")
    vb = factories.activity_volunteer(world["org_b"], name="霞山人")
    recs = [factories.service_record(v, world["org_a"], day=TODAY - timedelta(days=d), hours="3", by=world["org_leader"])
            for d in (1, 2)]
    factories.service_record(v2, world["org_a"], day=TODAY - timedelta(days=3), hours="2", verified=False,
                             by=world["org_leader"])
    factories.service_record(vb, world["org_b"], day=TODAY - timedelta(days=1), hours="4", by=world["org_leader_2"])
    db.session.commit()
    return dict(v=v, v2=v2, vb=vb, recs=recs)


def _export(client, dataset="records", include_sent=False):
    form = {"dataset": dataset, "start": START, "end": TODAY.isoformat()}
    if include_sent:
        form["include_sent"] = "y"
    resp, as_job = follow_job(client, client.post("/exchange/export", data=form))
    assert as_job, resp.status_code
    ws = load_workbook(io.BytesIO(resp.get_data())).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_records_export_follows_the_default_mapping_and_is_scoped(data, as_role):
    """001（五）: "社区应把志愿者的服务记录统一录入'i志愿'系统，实现互联互通" — verified records of the period
    only, within the district, with the national template's columns."""
    rows = _export(as_role("district_staff"))
    assert rows[0] == ["姓名", "证件类型", "证件号码", "服务日期", "服务时长（小时）", "服务内容", "活动名称", "活动组织单位"]
    assert [r[0] for r in rows[1:]] == ["李娜", "李娜"]  # not the pending record, not district B's
    assert rows[1][2] == pii.decrypt(data["v"].id_number_enc)  # the full number the target system needs


def test_second_export_skips_what_was_sent_unless_asked(data, as_role):
    """Re-exports skip what was already sent unless "包含已报送" is asked."""
    c = as_role("district_staff")
    assert len(_export(c)) == 3
    marks = db.session.scalars(select(ExchangeMark).where(ExchangeMark.record_id.in_([r.id for r in data["recs"]])))
    assert all(m.system == "i志愿" and m.sent_at is not None for m in marks)
    assert len(_export(c)) == 1  # header only
    batch = db.session.scalars(select(ExchangeBatch).order_by(ExchangeBatch.id.desc())).first()
    assert (batch.rows, batch.skipped) == (0, 2)
    assert len(_export(c, include_sent=True)) == 3
    # Another district's export is not affected by district A's marks.
    assert [r[0] for r in _export(as_role("district_staff_2"))[1:]] == ["霞山人"]


def test_volunteer_export_and_sent_marks(data, as_role):
    c = as_role("city_admin")
    rows = _export(c, "volunteers")
    assert rows[0][:3] == ["姓名", "证件类型", "证件号码"] and "平台志愿者编号" not in rows[0]
    names = sorted(r[0] for r in rows[1:])
    # Registered or with verified service in the period: 周杰 (registered long ago, only a pending record) is not.
    assert names == ["李娜", "霞山人"]
    assert len(_export(c, "volunteers")) == 1


def test_mapping_order_names_and_exclusion(data, as_role):
    """The city admin edits the target column names, their order and which are sent."""
    c = as_role("city_admin")
    form = {"system": "全国志愿服务信息系统"}
    for d, srcs in services.SOURCES.items():
        for i, s in enumerate(srcs):
            form[f"{d.value}-{s.key}-target"] = s.default_target
            form[f"{d.value}-{s.key}-pos"] = str(i + 1)
            form[f"{d.value}-{s.key}-include"] = "1"
    form["records-hours-target"] = "志愿服务时长"
    form["records-hours-pos"] = "0"  # first
    del form["records-content-include"]
    assert c.post("/exchange/mapping", data=form).status_code == 303
    rows = _export(as_role("district_staff"))
    assert rows[0][0] == "志愿服务时长" and "服务内容" not in rows[0] and rows[0][-1] == "平台记录号"
    assert rows[1][0] == 3
    assert services.mapping().system == "全国志愿服务信息系统"


def test_mapping_refuses_duplicates_and_blank_names_keeping_what_was_typed(data, as_role):
    c = as_role("city_admin")
    form = {"system": "i志愿"}
    for d, srcs in services.SOURCES.items():
        for i, s in enumerate(srcs):
            form[f"{d.value}-{s.key}-target"] = s.default_target
            form[f"{d.value}-{s.key}-pos"] = str(i + 1)
            form[f"{d.value}-{s.key}-include"] = "1"
    form["volunteers-sex-target"] = "姓名"
    form["records-content-target"] = ""
    form["records-hours-pos"] = "abc"
    resp = c.post("/exchange/mapping", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "列名与" in html and "请填写对方系统的列名" in html and "顺序" in html
    assert services.mapping().target(Dataset.VOLUNTEERS, "sex") == "性别"  # nothing saved


def test_mapping_page_is_the_city_admins(data, as_role):
    for role, code in (("city_admin", 200), ("district_staff", 403), ("org_leader", 403), ("leader", 403),
                       ("volunteer", 403)):
        assert as_role(role).get("/exchange/mapping").status_code == code, role


def test_exchange_pages_answer_each_role(data, as_role):
    for role, code in (("city_admin", 200), ("district_staff", 200), ("district_staff_2", 200), ("org_leader", 403),
                       ("leader", 403), ("reviewer", 403), ("volunteer", 403)):
        c = as_role(role)
        assert c.get("/exchange/").status_code == code, role
        assert c.get("/exchange/import").status_code == code, role
        assert c.post("/exchange/export", data={"dataset": "records", "start": START,
                                                "end": TODAY.isoformat()}).status_code in ((303,) if code == 200 else (403,)), role


def test_export_refuses_bad_period(data, as_role):
    resp = as_role("district_staff").post("/exchange/export", data={"dataset": "records", "start": TODAY.isoformat(),
                                                                    "end": START})
    assert resp.status_code == 422 and "结束日期不能早于开始日期" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ExchangeBatch.id))) == 0


def test_district_sees_only_its_own_batches(data, as_role):
    _export(as_role("district_staff"))
    assert "导出报送" in as_role("district_staff").get("/exchange/").get_data(as_text=True)
    assert "导出报送</td>" not in as_role("district_staff_2").get("/exchange/").get_data(as_text=True)


def _upload(client, rows, url="/exchange/import"):
    data = xlsx_bytes("志愿者", ["证件号码", "志愿者编码", "姓名"], rows)
    return client.post(url, data={"file": (io.BytesIO(data), "i志愿导出.xlsx")}, content_type="multipart/form-data")


def test_read_back_matches_by_id_number_and_reports_no_match(data, as_role):
    """The target system's export is read with the same mapping and matched by ID number."""
    c = as_role("district_staff")
    number = pii.decrypt(data["v"].id_number_enc)
    other = pii.decrypt(data["vb"].id_number_enc)  # district B's person: not in this user's scope
    resp = _upload(c, [[number, "ZY440802000123", "李娜"], [other, "ZY1", "霞山人"],
                       [factories.id_number(), "ZY2", "无此人"], ["123", "ZY3", "错号"]])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "未找到该证件号码的志愿者" in html and "证件号码：" in html and "李娜" in html
    assert number not in html and other not in html  # masked in the preview
    token = html.split('name="token" value="')[1].split('"')[0]
    resp = c.post("/exchange/import/confirm", data={"token": token})
    assert resp.status_code == 303 and "已匹配并更新 1 名志愿者" in c.get(resp.location).get_data(as_text=True)
    mark = db.session.scalar(select(ExchangeMark).where(ExchangeMark.volunteer_id == data["v"].id))
    assert mark.external_id == "ZY440802000123" and mark.confirmed_at is not None
    assert db.session.scalar(select(func.count(ExchangeMark.id)).where(ExchangeMark.volunteer_id == data["vb"].id)) == 0
    # Now known to the target system: a volunteers export skips them and carries their id when asked.
    assert "李娜" not in [r[0] for r in _export(c, "volunteers")[1:]]


def test_read_back_needs_the_mapped_columns(data, as_role):
    c = as_role("district_staff")
    data_ = xlsx_bytes("志愿者", ["身份证", "编号"], [["1", "2"]])
    resp = c.post("/exchange/import", data={"file": (io.BytesIO(data_), "x.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "缺少列" in resp.get_data(as_text=True)


def test_confirm_with_someone_elses_token_does_nothing(data, as_role):
    c = as_role("district_staff")
    html = _upload(c, [[pii.decrypt(data["v"].id_number_enc), "ZY9", "李娜"]]).get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    resp = as_role("city_admin").post("/exchange/import/confirm", data={"token": token})
    assert resp.status_code == 303 and "/exchange/import" in resp.location
    assert db.session.scalar(select(func.count(ExchangeMark.id))) == 0
