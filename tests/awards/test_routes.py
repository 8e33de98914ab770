"""HTTP tests of commendation: every page for its roles, forms with errors, scope by URL, the public 公示 page."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

from blueprints.accounts.models import Role
from blueprints.awards.models import (Campaign, CampaignStage, Nomination, NominationStatus, Objection, ScoreSheet)
from core import pii
from core.extensions import db
from core.timeutil import local_today
from tests.jobs import export_file
from tests import factories as f


def _submitted_pair(world):
    c = f.award_campaign()
    a = f.award_nomination(c, world["org_a"], status="submitted")  # 赤坎区
    b = f.award_nomination(c, world["org_b"], status="submitted")  # 霞山区
    db.session.commit()
    return c, a, b


# ---- campaigns ------------------------------------------------------------------------------------

def test_city_admin_creates_campaign_with_default_kinds(world, as_role):
    c = as_role("city_admin")
    assert c.get("/awards/new").status_code == 200
    today = local_today()
    data = {"year": today.year, "title": "2026年度最美志愿者评选", "granting_unit": "湛江市文明委",
            "nomination_start": today.isoformat(), "nomination_end": (today + timedelta(days=9)).isoformat(),
            "district_deadline": (today + timedelta(days=12)).isoformat(),
            "review_deadline": (today + timedelta(days=20)).isoformat(),
            "notice_start": (today + timedelta(days=21)).isoformat(), "notice_end": (today + timedelta(days=27)).isoformat(),
            "presentation_date": (today + timedelta(days=40)).isoformat(), "deeds_limit": 1500,
            "criteria": "服务时长：40\n服务成效：60"}
    resp = c.post("/awards/new", data=data)
    assert resp.status_code == 303
    camp = db.session.scalar(db.select(Campaign))
    assert [k.name for k in camp.kinds] == ["最美志愿者", "最佳志愿服务项目", "最佳志愿服务组织", "最佳社区志愿服务组织",
                                            "志愿服务杰出贡献奖"]
    assert camp.criteria == [{"name": "服务时长", "max": 40}, {"name": "服务成效", "max": 60}]
    page = c.get(f"/awards/{camp.id}").get_data(as_text=True)
    assert "最佳社区志愿服务组织" in page and "赤坎区 2" in page


def test_campaign_form_errors_are_422_and_keep_input(world, as_role):
    c = as_role("city_admin")
    resp = c.post("/awards/new", data={"year": "二〇二六", "title": "保留的标题", "criteria": "乱写"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "保留的标题" in body and "请填写整数" in body
    assert db.session.scalar(db.select(db.func.count()).select_from(Campaign)) == 0


def test_kind_form_sets_quotas_and_rules(world, as_role):
    camp = f.award_campaign()
    db.session.commit()
    kind = camp.kinds[0]
    c = as_role("city_admin")
    assert c.get(f"/awards/{camp.id}/kinds/{kind.id}").status_code == 200
    data = {"name": "最美志愿者", "nominee_type": "volunteer", "quota": 8, "min_star": 2, "min_hours": 0, "min_years": 1,
            "no_dismissal": "y", "active_org": "y", f"q{world['district_a'].id}": 3, f"q{world['district_b'].id}": "x"}
    resp = c.post(f"/awards/{camp.id}/kinds/{kind.id}", data=data)
    assert resp.status_code == 422 and "各区名额应为" in resp.get_data(as_text=True)
    data[f"q{world['district_b'].id}"] = 1
    assert c.post(f"/awards/{camp.id}/kinds/{kind.id}", data=data).status_code == 303
    db.session.refresh(kind)
    assert kind.quota == 8 and kind.min_star == 2
    assert kind.quota_for(world["district_a"].id) == 3 and kind.quota_for(world["district_b"].id) == 1


def test_only_city_admin_configures(world, as_role):
    camp = f.award_campaign()
    db.session.commit()
    for role in ("district_staff", "org_leader", "reviewer", "leader"):
        c = as_role(role)
        assert c.get("/awards/new").status_code == 403
        assert c.post(f"/awards/{camp.id}/advance", data={"action": "start_scoring"}).status_code == 403
        assert c.get(f"/awards/{camp.id}/progress").status_code == 403


# ---- nominations ----------------------------------------------------------------------------------

def test_org_leader_nominates_uploads_and_submits(world, as_role):
    camp = f.award_campaign()
    kind = f.award_kind(camp)
    kind.min_star, kind.min_years = 0, 0
    v = f.activity_volunteer(world["org_a"], name="陈晓红")
    db.session.commit()
    c = as_role("org_leader")
    assert c.get(f"/awards/{camp.id}/nominate").status_code == 200
    resp = c.post(f"/awards/{camp.id}/nominate", data={"kind_id": kind.id, "organization_id": world["org_a"].id,
                                                       "volunteer_id": "", "summary": "十年如一日", "deeds": "事迹"})
    assert resp.status_code == 422 and "请选择本组织的志愿者" in resp.get_data(as_text=True)
    resp = c.post(f"/awards/{camp.id}/nominate", data={"kind_id": kind.id, "organization_id": world["org_a"].id,
                                                       "volunteer_id": v.id, "summary": "十年如一日", "deeds": "事迹"})
    assert resp.status_code == 303
    n = db.session.scalar(db.select(Nomination))
    assert n.nominee_name == "陈晓红" and n.status == NominationStatus.DRAFT
    page = c.get(f"/awards/nominations/{n.id}").get_data(as_text=True)
    assert "符合本奖项的评选条件" in page
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    resp = c.post(f"/awards/nominations/{n.id}/files", data={"file": (io.BytesIO(png), "a.png")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422  # not a decodable image
    resp = c.post(f"/awards/nominations/{n.id}/files", data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "证明.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    db.session.refresh(n)
    assert len(n.files) == 1
    download = c.get(f"/awards/files/{n.files[0].id}")
    assert download.status_code == 200
    download.close()
    assert as_role("org_leader_2").get(f"/awards/files/{n.files[0].id}").status_code == 404
    assert c.post(f"/awards/nominations/{n.id}/transition", data={"action": "submit"}).status_code == 303
    db.session.refresh(n)
    assert n.status == NominationStatus.SUBMITTED and n.facts["total_hours"] == "0.0"


def test_ineligible_submission_shows_reason(world, as_role):
    camp = f.award_campaign()
    n = f.award_nomination(camp, world["org_a"])  # 最美志愿者 needs 一星
    db.session.commit()
    resp = as_role("org_leader").post(f"/awards/nominations/{n.id}/transition", data={"action": "submit"})
    assert resp.status_code == 422
    assert "不符合推荐条件：星级为未评星，本奖项要求至少 1 星" in resp.get_data(as_text=True)


def test_district_staff_recommends_and_rejects_with_reason(world, as_role):
    camp, a, _ = _submitted_pair(world)
    a2 = f.award_nomination(camp, world["org_a"], status="submitted")
    db.session.commit()
    c = as_role("district_staff")
    resp = c.post(f"/awards/nominations/{a2.id}/transition", data={"action": "reject", "comment": ""})
    assert resp.status_code == 422 and "请填写不予推荐的理由" in resp.get_data(as_text=True)
    assert c.post(f"/awards/nominations/{a2.id}/transition",
                  data={"action": "reject", "comment": "事迹不突出"}).status_code == 303
    assert c.post(f"/awards/nominations/{a.id}/transition", data={"action": "recommend"}).status_code == 303
    db.session.refresh(a)
    assert a.status == NominationStatus.RECOMMENDED and a.district_order == 1
    page = c.get(f"/awards/nominations/{a2.id}").get_data(as_text=True)
    assert "事迹不突出" in page and "区级不予推荐" in page


def test_org_leader_cannot_recommend(world, as_role):
    _, a, _ = _submitted_pair(world)
    assert as_role("org_leader").post(f"/awards/nominations/{a.id}/transition",
                                      data={"action": "recommend"}).status_code == 403


# ---- scope by URL -----------------------------------------------------------------------------------

def test_xiashan_user_cannot_open_chikan_nomination(world, as_role):
    _, a, b = _submitted_pair(world)
    xiashan = as_role("district_staff_2")  # 霞山区
    assert xiashan.get(f"/awards/nominations/{b.id}").status_code == 200
    assert xiashan.get(f"/awards/nominations/{a.id}").status_code == 404
    assert xiashan.post(f"/awards/nominations/{a.id}/transition", data={"action": "recommend"}).status_code == 404
    assert as_role("org_leader_2").get(f"/awards/nominations/{a.id}").status_code == 404
    listing = xiashan.get(f"/awards/{a.campaign_id}/nominations").get_data(as_text=True)
    assert b.nominee_name in listing and a.nominee_name not in listing


def test_unassigned_reviewer_sees_nothing(world, as_role):
    camp, a, _ = _submitted_pair(world)
    a.status = NominationStatus.RECOMMENDED
    camp.stage = CampaignStage.SCORING
    db.session.commit()
    c = as_role("reviewer")
    assert c.get(f"/awards/{camp.id}").status_code == 404
    assert c.get(f"/awards/nominations/{a.id}").status_code == 404
    assert c.post(f"/awards/nominations/{a.id}/score", data={"p0": "1"}).status_code == 404
    assert camp.title not in c.get("/awards/").get_data(as_text=True)


def test_assigned_reviewer_scores_with_htmx_and_cannot_see_others(world, as_role):
    other = f.user(Role.REVIEWER, display_name="周教授")
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"], other])
    n = f.award_nomination(camp, world["org_a"], status="recommended")
    draft = f.award_nomination(camp, world["org_a"], status="submitted")
    db.session.add(ScoreSheet(nomination_id=n.id, reviewer_id=other.id, points=["29", "39", "19", "9"], total=Decimal("96")))
    db.session.commit()
    c = as_role("reviewer")
    assert c.get(f"/awards/nominations/{draft.id}").status_code == 404  # not recommended: not the panel's
    page = c.get(f"/awards/nominations/{n.id}").get_data(as_text=True)
    assert "周教授" not in page and "96" not in page
    resp = c.post(f"/awards/nominations/{n.id}/score", data={"p0": "31", "p1": "1", "p2": "1", "p3": "1"},
                  headers={"HX-Request": "true"})
    assert resp.status_code == 422 and "应在 0–30 分之间" in resp.get_data(as_text=True)
    resp = c.post(f"/awards/nominations/{n.id}/score", data={"p0": "25", "p1": "30", "p2": "15", "p3": "8"},
                  headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "评分已保存（合计 78 分）" in resp.get_data(as_text=True)
    assert "<html" not in resp.get_data(as_text=True)
    assert c.get(f"/awards/{camp.id}/results").status_code == 403  # hidden until scoring closes
    review = c.get(f"/awards/{camp.id}/review").get_data(as_text=True)
    assert "已评 78" in review
    # City admin sees progress (who scored what).
    prog = as_role("city_admin").get(f"/awards/{camp.id}/progress").get_data(as_text=True)
    assert prog.count(">已评</span>") == 2 and "周教授" in prog
    # After closing, the sheets are visible.
    camp.stage = CampaignStage.RANKED
    db.session.commit()
    assert "周教授" in c.get(f"/awards/nominations/{n.id}").get_data(as_text=True)


def test_progress_totals_per_reviewer(world, as_role):
    """Who has scored what: each reviewer's done / due count under their column (recusal not due)."""
    other = f.user(Role.REVIEWER, display_name="周教授")
    world["reviewer"].organizations = [world["org_a"]]  # recuses from org_a's nominee
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"], other])
    n1 = f.award_nomination(camp, world["org_a"], status="recommended")
    n2 = f.award_nomination(camp, world["org_b"], status="recommended")
    db.session.add(ScoreSheet(nomination_id=n1.id, reviewer_id=other.id, points=["29", "39", "19", "9"],
                              total=Decimal("96")))
    db.session.commit()
    prog = as_role("city_admin").get(f"/awards/{camp.id}/progress").get_data(as_text=True)
    foot = prog[prog.index("每位专家已评 / 应评"):]
    assert "<strong>0/1</strong>" in foot and "<strong>1/2</strong>" in foot and n2.id


def test_reviewer_recusal_page(world, as_role):
    world["reviewer"].organizations = [world["org_a"]]
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"]])
    n = f.award_nomination(camp, world["org_a"], status="recommended")
    db.session.commit()
    c = as_role("reviewer")
    assert "按规定回避" in c.get(f"/awards/nominations/{n.id}").get_data(as_text=True)
    assert c.post(f"/awards/nominations/{n.id}/score",
                  data={"p0": "1", "p1": "1", "p2": "1", "p3": "1"}).status_code == 403


# ---- 公示 -----------------------------------------------------------------------------------------------

def _notice(world):
    camp = f.award_campaign(stage="notice")
    v = f.activity_volunteer(world["org_a"], name="陈晓红", phone="13812345678")
    n = f.award_nomination(camp, world["org_a"], volunteer_=v, status="publicized", rank=1,
                           summary="坚持助老服务八年")
    db.session.commit()
    return camp, n, v


def test_public_page_without_login_has_no_personal_data(world, client):
    camp, n, v = _notice(world)
    resp = client.get(f"/awards/public/{camp.id}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "陈晓红" in body and "坚持助老服务八年" in body and world["org_a"].name in body
    assert "13812345678" not in body and v.id_masked not in body and pii.decrypt(v.id_number_enc)[-4:] not in body
    assert not re.search(r"\d{17}[\dXx]", body) and not re.search(r"1[3-9]\d{9}", body)


def test_public_summary_refuses_and_hides_phone_and_id_numbers(world, as_role, client):
    """The summary is published without login: a phone or ID number typed into it is refused at
    nomination (422, message next to the field, text kept) and never shown on the 公示 page."""
    camp = f.award_campaign()
    kind = f.award_kind(camp)
    kind.min_star, kind.min_years = 0, 0
    v = f.activity_volunteer(world["org_a"], name="陈晓红")
    db.session.commit()
    c = as_role("org_leader")
    for typed in ("联系电话 138 1234 5678", "身份证 440802199001011234", "电话0759-2345678"):
        resp = c.post(f"/awards/{camp.id}/nominate", data={"kind_id": kind.id, "organization_id": world["org_a"].id,
                                                           "volunteer_id": v.id, "summary": typed, "deeds": "事迹"})
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422 and "请勿填写手机号" in body and typed in body, typed
    assert db.session.scalar(db.select(db.func.count()).select_from(Nomination)) == 0
    notice = f.award_campaign(stage="notice")
    f.award_nomination(notice, world["org_a"], status="publicized", rank=1,
                       summary="热心助老，联系 13812345678，证件 440802199001011234")  # e.g. typed before the rule
    db.session.commit()
    body = client.get(f"/awards/public/{notice.id}").get_data(as_text=True)
    assert "热心助老" in body and "13812345678" not in body and "440802199001011234" not in body


def test_public_page_only_during_notice(world, client):
    camp = f.award_campaign(stage="ranked")
    db.session.commit()
    assert client.get(f"/awards/public/{camp.id}").status_code == 404
    assert client.get("/awards/public/999999").status_code == 404


def test_objection_form_and_throttle(world, client, as_role):
    camp, n, _ = _notice(world)
    resp = client.post(f"/awards/public/{camp.id}", data={"name": "", "contact": "", "content": ""})
    assert resp.status_code == 422 and "此项必填" in resp.get_data(as_text=True)
    data = {"nomination_id": n.id, "name": "王先生", "contact": "13900001111", "content": "服务时长存疑"}
    for _ in range(3):
        assert client.post(f"/awards/public/{camp.id}", data=data).status_code == 303
    resp = client.post(f"/awards/public/{camp.id}", data=data)
    assert resp.status_code == 429 and "提交过于频繁" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Objection)) == 3
    admin = as_role("city_admin")
    page = admin.get(f"/awards/{camp.id}/objections").get_data(as_text=True)
    assert "服务时长存疑" in page and "13900001111" not in page
    o = db.session.scalar(db.select(Objection))
    resp = admin.post(f"/awards/objections/{o.id}/resolve", data={"upheld": "0", "outcome": ""})
    assert resp.status_code == 422
    assert admin.post(f"/awards/objections/{o.id}/resolve",
                      data={"upheld": "0", "outcome": "经核实，记录真实"}).status_code == 303
    assert as_role("district_staff").get(f"/awards/{camp.id}/objections").status_code == 403


def test_certificate_pdf_for_winner(world, as_role):
    camp = f.award_campaign(stage="decided")
    n = f.award_nomination(camp, world["org_a"], status="awarded", rank=1)
    db.session.commit()
    resp = as_role("city_admin").get(f"/awards/{camp.id}/certificates.pdf")
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    assert as_role("org_leader").get(f"/awards/nominations/{n.id}/certificate.pdf").status_code == 200
    assert as_role("org_leader_2").get(f"/awards/nominations/{n.id}/certificate.pdf").status_code == 404


def test_index_and_pages_render_for_every_role(world, as_role):
    camp, a, b = _submitted_pair(world)
    for role in ("city_admin", "district_staff", "org_leader", "leader"):
        c = as_role(role)
        assert c.get("/awards/").status_code == 200
        assert c.get(f"/awards/{camp.id}").status_code == 200
        assert c.get(f"/awards/{camp.id}/nominations").status_code == 200
        assert c.htmx_get(f"/awards/{camp.id}/nominations?status=submitted").status_code == 200
    admin = as_role("city_admin")
    for url in (f"/awards/{camp.id}/edit", f"/awards/{camp.id}/panel", f"/awards/{camp.id}/progress",
                f"/awards/{camp.id}/results", f"/awards/{camp.id}/objections", f"/awards/{camp.id}/kinds/new"):
        assert admin.get(url).status_code == 200, url


def test_nomination_form_pdf_and_results_xlsx(world, as_role):
    camp = f.award_campaign(stage="ranked")
    n = f.award_nomination(camp, world["org_a"], status="ranked", rank=1, score=Decimal("88.5"))
    db.session.commit()
    resp = as_role("district_staff").get(f"/awards/nominations/{n.id}/form.pdf")
    assert resp.status_code == 200 and resp.data[:4] == b"%PDF"
    assert as_role("district_staff_2").get(f"/awards/nominations/{n.id}/form.pdf").status_code == 404
    resp = export_file(as_role("city_admin"), f"/awards/{camp.id}/results.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[2]][:4] == ["最美志愿者", 1, None, n.nominee_name]


def test_nomination_form_with_short_deeds_is_one_page(world, as_role):
    """The 推荐表 is a one-page official form when the deeds are short (no page with a lone footnote)."""
    import subprocess
    camp = f.award_campaign(stage="scoring")
    deeds = "\n\n".join(["扎根社区5年，组织助老、助残服务数百场，被居民称为“身边的活雷锋”。"] * 3) + "\n\n以上事迹经推荐单位核实。"
    n = f.award_nomination(camp, world["org_a"], status="recommended", deeds=deeds)
    db.session.commit()
    data = as_role("city_admin").get(f"/awards/nominations/{n.id}/form.pdf").data
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert re.search(r"Pages:\s+1\n", info), info


def test_awards_show_on_the_organizations_page(world, as_role):
    camp = f.award_campaign(stage="decided")
    f.award_nomination(camp, world["org_a"], kind=f.award_kind(camp, "organization"), status="awarded", rank=1)
    db.session.commit()
    page = as_role("district_staff").get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert "评选表彰" in page and f"{camp.year}年度最佳志愿服务组织" in page


def test_reviewer_dashboard_tile_counts_open_scores(world, as_role):
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"]])
    for _ in range(2):
        f.award_nomination(camp, world["org_a"], status="recommended")
    db.session.commit()
    page = as_role("reviewer").get("/").get_data(as_text=True)
    assert "待我评分：2 项" in page and 'data-figure="awards.todo" data-value="2"' in page


def test_decided_award_shows_on_the_volunteers_page(world, as_role):
    from blueprints.awards import services

    camp = f.award_campaign(stage="notice")
    camp.notice_start = camp.notice_end = local_today()
    n = f.award_nomination(camp, world["org_a"], status="publicized", rank=1)
    services.advance(world["city_admin"], camp, "decide")
    db.session.commit()
    page = as_role("org_leader").get(f"/volunteers/{n.volunteer_id}").get_data(as_text=True)
    assert f"{camp.year}年度最美志愿者" in page


def test_project_nomination_names_its_activity_and_the_award_shows_on_the_activity_page(world, as_role):
    camp = f.award_campaign()
    kind = f.award_kind(camp, "project")
    act = f.activity(world["org_a"], title="红树林守护行动")
    other = f.activity(world["org_b"], title="霞山的活动")
    db.session.commit()
    c = as_role("org_leader")
    form = c.get(f"/awards/{camp.id}/nominate").get_data(as_text=True)
    assert "红树林守护行动" in form and "霞山的活动" not in form  # only the leader's own activities offered
    data = {"kind_id": kind.id, "organization_id": world["org_a"].id, "project_title": "", "summary": "守护海岸",
            "deeds": "事迹"}
    resp = c.post(f"/awards/{camp.id}/nominate", data=data | {"activity_id": other.id})
    assert resp.status_code == 422 and "请选择本组织举办的活动" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(Nomination)) is None
    assert c.post(f"/awards/{camp.id}/nominate", data=data | {"activity_id": act.id}).status_code == 303
    n = db.session.scalar(db.select(Nomination))
    assert n.activity_id == act.id and n.nominee_name == "红树林守护行动"
    n.status, camp.stage = NominationStatus.AWARDED, CampaignStage.DECIDED
    db.session.commit()
    page = as_role("district_staff").get(f"/activities/{act.id}").get_data(as_text=True)
    assert "评选表彰" in page and f"{camp.year}年度{kind.name}" in page and "获奖" in page
    assert f"{camp.year}年度{kind.name}" not in as_role("district_staff_2").get(f"/activities/{other.id}").get_data(as_text=True)
    assert as_role("district_staff_2").get(f"/activities/{act.id}").status_code == 404
