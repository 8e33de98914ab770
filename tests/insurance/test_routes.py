"""HTTP: the policy form (create, errors kept, scan), picker, renew, import preview/confirm, coverage,
the risky-activity panel, the dashboard tile, and no full ID number on any page."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook

from blueprints.activities.models import Participant
from blueprints.insurance.models import InsurancePolicy
from core import pii
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f
from tests.settings.helpers import policy_data


def _form(org, **kw):
    data = {"organization": str(org.id), "insurer": "中国人寿", "policy_no": "GD-2026-001",
            "product": "志愿者团体意外伤害保险", "mode": "named", "head_count": "",
            "start_date": "2026-01-01", "end_date": "2026-12-31", "sum_insured": "200000",
            "premium": "1280.50", "payer_source": "财政拨款", "payer_note": "", "note": ""}
    data.update(kw)
    return data


def test_org_leader_creates_named_policy_with_scan(as_role, world):
    vols = [f.activity_volunteer(world["org_a"]) for _ in range(3)]
    db.session.commit()
    c = as_role("org_leader")
    assert c.get("/insurance/new").status_code == 200
    data = _form(world["org_a"], volunteer_ids=[str(vols[0].id), str(vols[1].id)],
                 scan=(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "保单.pdf"))
    resp = c.post("/insurance/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    p = db.session.query(InsurancePolicy).one()
    assert {i.volunteer_id for i in p.insured} == {vols[0].id, vols[1].id}
    assert p.scan and p.scan_name == "保单.pdf"
    page = c.get(f"/insurance/{p.id}").get_data(as_text=True)
    assert "GD-2026-001" in page and vols[0].id_masked in page
    scan = c.get(f"/insurance/{p.id}/scan")
    scan.close()
    assert scan.status_code == 200 and scan.mimetype == "application/pdf"


def test_bad_input_is_reshown_with_422_and_nothing_saved(as_role, world):
    c = as_role("district_staff")
    resp = c.post("/insurance/new", data=_form(world["org_a"], premium="-3", end_date="2025-01-01",
                                               policy_no="KEEP-ME"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "KEEP-ME" in html
    assert db.session.query(InsurancePolicy).count() == 0
    resp = c.post("/insurance/new", data=_form(world["org_a"], premium="abc"))
    assert resp.status_code == 422 and "保费格式不正确" in resp.get_data(as_text=True)
    resp = c.post("/insurance/new", data=_form(world["org_a"], end_date="2025-01-01"))
    assert resp.status_code == 422 and "保险止期不能早于起期" in resp.get_data(as_text=True)
    resp = c.post("/insurance/new", data=_form(world["org_a"], start_date="junk"))
    assert resp.status_code == 422 and "日期格式" in resp.get_data(as_text=True)
    resp = c.post("/insurance/new", data=dict(_form(world["org_a"]), scan=(io.BytesIO(b"MZ exe"), "x.pdf")),
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件类型不支持" in resp.get_data(as_text=True)
    assert db.session.query(InsurancePolicy).count() == 0


def test_duplicate_number_per_insurer_is_refused(as_role, world):
    f.insurance_policy(world["org_b"], policy_no="DUP-1")
    db.session.commit()
    resp = as_role("district_staff").post("/insurance/new", data=_form(world["org_a"], policy_no="DUP-1"))
    assert resp.status_code == 422 and "已登记过" in resp.get_data(as_text=True)


def test_headcount_policy(as_role, world):
    c = as_role("district_staff")
    resp = c.post("/insurance/new", data=_form(world["org_a"], mode="headcount", head_count=""))
    assert resp.status_code == 422 and "投保人数" in resp.get_data(as_text=True)
    resp = c.post("/insurance/new", data=_form(world["org_a"], mode="headcount", head_count="40"))
    assert resp.status_code == 303
    assert db.session.query(InsurancePolicy).one().head_count == 40


def test_picker_search_and_select_all(as_role, world):
    a = f.activity_volunteer(world["org_a"], name="陈小明")
    b = f.activity_volunteer(world["org_a"], name="李小红")
    db.session.commit()
    c = as_role("org_leader")
    html = c.htmx_get(f"/insurance/picker?organization={world['org_a'].id}&vq=陈").get_data(as_text=True)
    assert "陈小明" in html and "李小红" not in html
    html = c.htmx_get(f"/insurance/picker?organization={world['org_a'].id}&all=1").get_data(as_text=True)
    assert html.count("checked") == 2 and "已选 2 人" in html
    html = c.htmx_get(f"/insurance/picker?organization={world['org_a'].id}&volunteer_ids={b.id}&vq=陈") \
        .get_data(as_text=True)
    assert "已选 1 人" in html and "陈小明" in html and "李小红" in html
    assert a.id_masked in html


def test_list_filters_by_status_and_htmx_partial(as_role, world):
    today = local_today()
    f.insurance_policy(world["org_a"], policy_no="SOON-1", start=today - timedelta(days=300),
                       end=today + timedelta(days=10))
    f.insurance_policy(world["org_a"], policy_no="OLD-1", start=today - timedelta(days=500),
                       end=today - timedelta(days=100))
    db.session.commit()
    c = as_role("district_staff")
    html = c.htmx_get("/insurance/?status=expiring").get_data(as_text=True)
    assert "SOON-1" in html and "OLD-1" not in html and "<html" not in html
    html = c.get("/insurance/?status=expired").get_data(as_text=True)
    assert "OLD-1" in html and "SOON-1" not in html
    home = c.get("/").get_data(as_text=True)
    assert "保险提醒" in home


def test_renew_prefills_and_creates_linked_policy(as_role, world):
    v = f.activity_volunteer(world["org_a"])
    old = f.insurance_policy(world["org_a"], policy_no="OLD-9", volunteers=[v])
    db.session.commit()
    c = as_role("org_leader")
    html = c.get(f"/insurance/{old.id}/renew").get_data(as_text=True)
    new_start = old.end_date + timedelta(days=1)
    assert new_start.isoformat() in html and 'value="中国人寿"' in html
    resp = c.post(f"/insurance/{old.id}/renew", data=_form(world["org_a"], policy_no="NEW-9",
                                                          start_date=new_start.isoformat(),
                                                          end_date=(new_start + timedelta(days=364)).isoformat(),
                                                          volunteer_ids=[str(v.id)]))
    assert resp.status_code == 303
    new = db.session.query(InsurancePolicy).filter_by(policy_no="NEW-9").one()
    assert new.renewed_from_id == old.id and [i.volunteer_id for i in new.insured] == [v.id]
    assert "已续保" in c.get(f"/insurance/{old.id}").get_data(as_text=True)


def test_edit_policy(as_role, world):
    p = f.insurance_policy(world["org_a"], policy_no="E-1")
    db.session.commit()
    c = as_role("district_staff")
    assert c.get(f"/insurance/{p.id}/edit").status_code == 200
    resp = c.post(f"/insurance/{p.id}/edit", data=_form(world["org_a"], policy_no="E-1", premium="99.90"))
    assert resp.status_code == 303
    db.session.refresh(p)
    assert str(p.premium) == "99.90"


def _xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def test_import_preview_errors_then_confirm(as_role, world):
    a = f.activity_volunteer(world["org_a"], name="导入甲")
    b = f.activity_volunteer(world["org_a"], name="导入乙")
    p = f.insurance_policy(world["org_a"])
    db.session.commit()
    na, nb = pii.decrypt(a.id_number_enc), pii.decrypt(b.id_number_enc)
    c = as_role("org_leader")
    assert c.get("/insurance/import-template.xlsx").status_code == 200
    resp = c.post(f"/insurance/{p.id}/import", data={"file": (_xlsx([["导入甲", na], ["导入乙", "440802199001011234"],
                                                                     ["错名", nb]]), "名单.xlsx")},
                  content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "有问题" in html and "姓名与登记不符" in html
    assert na not in html and nb not in html  # never the full number, even in the preview
    assert "确认导入 1 人" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    assert c.post(f"/insurance/{p.id}/import/confirm", data={"token": token}).status_code == 303
    db.session.refresh(p)
    assert [i.volunteer_id for i in p.insured] == [a.id]
    from core.audit import AuditEntry
    entry = db.session.query(AuditEntry).filter_by(action="import", entity_id=p.id).one()
    assert entry.summary == "被保险人名单：新增 1 人" and entry.org_id == world["org_a"].id
    # a token is single-use
    resp = c.post(f"/insurance/{p.id}/import/confirm", data={"token": token})
    assert resp.status_code == 303 and db.session.query(InsurancePolicy).one().insured.__len__() == 1
    resp = c.post(f"/insurance/{p.id}/import", data={"file": (io.BytesIO(b"junk"), "x.xlsx")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "无法读取" in resp.get_data(as_text=True)


def test_coverage_pages_and_org_panel(as_role, world):
    vols = [f.activity_volunteer(world["org_a"], name=f"覆盖{i}") for i in range(4)]
    f.insurance_policy(world["org_a"], volunteers=vols[:3])
    db.session.commit()
    c = as_role("district_staff")
    html = c.get("/insurance/coverage").get_data(as_text=True)
    assert "赤坎区" in html and "75.0%" in html and "霞山区" not in html
    html = c.get(f"/insurance/coverage/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "覆盖3" in html and vols[3].id_masked in html and "未覆盖的在册志愿者（1 人）" in html
    html = c.get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "保险保障" in html and "75.0%" in html


def test_risky_activity_panel_and_list(as_role, world):
    v = f.activity_volunteer(world["org_a"], name="风险队员")
    act = f.activity(world["org_a"], title="河道清洁巡护", held_on=local_today() + timedelta(days=3), risky=True)
    db.session.add(Participant(activity_id=act.id, volunteer_id=v.id))
    act.participant_count = 1
    db.session.commit()
    c = as_role("district_staff")
    html = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "没有保险" in html and "风险队员" in html and v.id_masked in html
    assert "河道清洁巡护" in c.get("/insurance/risky").get_data(as_text=True)
    f.insurance_policy(world["org_a"], volunteers=[v])
    db.session.commit()
    html = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "全部参与者在活动当日均有保险" in html
    assert "河道清洁巡护" not in c.get("/insurance/risky").get_data(as_text=True)


def test_settings_change_warning_days(as_role):
    c = as_role("city_admin")
    resp = c.post("/settings/policy", data=policy_data(**{"insurance.warn_days": 0}))
    assert resp.status_code == 422 and "1–365" in resp.get_data(as_text=True)
    resp = c.post("/settings/policy", data=dict(policy_data(), insurance__warn_days="abc"))
    assert resp.status_code == 422
    assert c.post("/settings/policy", data=policy_data(**{"insurance.warn_days": 45})).status_code == 303
    assert "45 天内到期" in c.get("/insurance/").get_data(as_text=True)
    assert "45 天内到期" in c.get("/insurance/").get_data(as_text=True)


def test_no_full_id_number_on_any_page(as_role, world):
    vols = [f.activity_volunteer(world["org_a"]) for _ in range(2)]
    p = f.insurance_policy(world["org_a"], volunteers=vols[:1])
    act = f.activity(world["org_a"], held_on=local_today() + timedelta(days=1), risky=True)
    db.session.add(Participant(activity_id=act.id, volunteer_id=vols[1].id))
    db.session.commit()
    numbers = [pii.decrypt(v.id_number_enc) for v in vols]
    c = as_role("org_leader")
    for url in ("/insurance/", f"/insurance/{p.id}", f"/insurance/{p.id}/edit", f"/insurance/{p.id}/renew",
                "/insurance/coverage", f"/insurance/coverage/orgs/{world['org_a'].id}", "/insurance/risky",
                f"/insurance/picker?organization={world['org_a'].id}&all=1", f"/activities/{act.id}", "/"):
        html = c.get(url).get_data(as_text=True)
        for n in numbers:
            assert n not in html, url


def test_uncovered_participants_join_a_policy_from_the_activity_panel(as_role, world):
    a = f.activity_volunteer(world["org_a"], name="补保甲")
    outsider = f.activity_volunteer(world["org_b"], name="外组织乙")
    day = local_today() + timedelta(days=4)
    act = f.activity(world["org_a"], title="金沙湾环境整治", held_on=day, risky=True)
    for v in (a, outsider):
        db.session.add(Participant(activity_id=act.id, volunteer_id=v.id))
    act.participant_count = 2
    p = f.insurance_policy(world["org_a"], policy_no="PANEL-1", start=day - timedelta(days=30), end=day)
    expired = f.insurance_policy(world["org_a"], policy_no="OLD-PANEL", start=day - timedelta(days=90),
                                 end=day - timedelta(days=1))
    db.session.commit()
    html = as_role("org_leader").get(f"/activities/{act.id}").get_data(as_text=True)
    assert "加入保单 PANEL-1" in html and "OLD-PANEL" not in html
    # another district cannot use the button by URL
    assert as_role("district_staff_2").post(f"/insurance/{p.id}/cover-activity/{act.id}").status_code == 404
    c = as_role("org_leader")
    resp = c.post(f"/insurance/{expired.id}/cover-activity/{act.id}")
    assert resp.status_code == 303
    assert "不在保险期间内" in c.get(f"/activities/{act.id}").get_data(as_text=True)
    resp = c.post(f"/insurance/{p.id}/cover-activity/{act.id}")
    assert resp.status_code == 303
    db.session.refresh(p)
    assert [i.volunteer_id for i in p.insured] == [a.id]
    html = c.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "另有 1 人" in html and "外组织乙" in html and "补保甲" not in html.split("参与者保险")[1].split("报名")[0]


def test_volunteer_page_shows_insurance(as_role, world):
    v = f.activity_volunteer(world["org_a"], name="面板队员")
    db.session.commit()
    c = as_role("org_leader")
    assert "今日（" in c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "没有保险" in c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    f.insurance_policy(world["org_a"], volunteers=[v], policy_no="VOL-PANEL")
    db.session.commit()
    html = c.get(f"/volunteers/{v.id}").get_data(as_text=True)
    assert "VOL-PANEL" in html and "有保险" in html and "没有保险" not in html


def test_scan_as_image_then_removed(as_role, world):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "PNG")
    p = f.insurance_policy(world["org_a"], policy_no="IMG-1")
    db.session.commit()
    c = as_role("district_staff")
    resp = c.post(f"/insurance/{p.id}/edit", data=dict(_form(world["org_a"], policy_no="IMG-1"),
                                                       scan=(io.BytesIO(buf.getvalue()), "scan.png")),
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.scan and p.scan.endswith(".png")
    img = c.get(f"/insurance/{p.id}/scan")
    img.close()
    assert img.mimetype == "image/png"
    resp = c.post(f"/insurance/{p.id}/edit", data=_form(world["org_a"], policy_no="IMG-1", remove_scan="y"))
    assert resp.status_code == 303
    db.session.refresh(p)
    assert p.scan is None
    assert c.get(f"/insurance/{p.id}/scan").status_code == 404


def test_org_coverage_lists_a_page_of_uncovered_members_and_counts_all(as_role, world, monkeypatch):
    """Issue 16: an organization with thousands of uncovered members (10× data) gets a bounded page."""
    from blueprints.insurance import routes

    vols = [f.activity_volunteer(world["org_a"], name=f"未保{i}") for i in range(3)]
    db.session.commit()
    monkeypatch.setattr(routes, "UNCOVERED_SHOWN", 2)
    html = as_role("district_staff").get(f"/insurance/coverage/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "未覆盖的在册志愿者（3 人）" in html and "按姓名列出前 2 人" in html
    assert sum(f"<td>{v.name}</td>" in html for v in vols) == 2


def test_coverage_tables_are_kept_per_scope_and_follow_every_change(as_role, world):
    """The coverage tables come from the shared cache (per data version, day and scope): another
    district never sees them, a new policy shows on the next view, and a district id outside the
    user's scope neither shows nor gets a cache entry of its own."""
    from sqlalchemy import select

    from core.cache import FigureCache

    vols = [f.activity_volunteer(world["org_a"], name=f"覆盖{i}") for i in range(4)]
    f.insurance_policy(world["org_a"], volunteers=vols[:3])
    db.session.commit()
    staff, other = as_role("district_staff"), as_role("district_staff_2")
    assert "75.0%" in staff.get("/insurance/coverage").get_data(as_text=True)
    html = other.get("/insurance/coverage").get_data(as_text=True)
    assert "赤坎区" not in html and "霞山区" in html and "75.0%" not in html
    keys = set(db.session.scalars(select(FigureCache.key).where(FigureCache.key.like("insurance:coverage:%"))))
    assert len([k for k in keys if k.endswith(":districts")]) == 2  # one per scope
    f.insurance_policy(world["org_a"], volunteers=vols[3:])
    db.session.commit()
    assert "100.0%" in staff.get("/insurance/coverage").get_data(as_text=True)
    foreign = world["org_b"].district_id
    html = staff.get(f"/insurance/coverage?district={foreign}").get_data(as_text=True)
    assert "霞山区" not in html and world["org_b"].name not in html
    keys = set(db.session.scalars(select(FigureCache.key).where(FigureCache.key.like("insurance:coverage:%"))))
    assert not any(k.endswith(f":orgs:{foreign}") for k in keys)
