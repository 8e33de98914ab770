"""HTTP: every route of the monthly reports, for each role, with CSRF on."""
from __future__ import annotations

import io
from datetime import date

import pytest

from blueprints.reports import services
from blueprints.reports.models import MonthlyReport, Notification, ReportAttachment, ReportStatus
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.settings.helpers import policy_data
from tests.jobs import export_file


def _last_month():
    return services.default_period(local_today())


def _report(world, status="draft", unit="org_a", by="org_leader"):
    y, m = _last_month()
    return factories.monthly_report(world[by], world[unit], y, m, status=status)


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader"])
def test_pages_open_for_readers(world, as_role, role):
    c = as_role(role)
    for url in ("/reports/", "/reports/needs", "/reports/notifications"):
        assert c.get(url).status_code == 200, url
    assert c.htmx_get("/reports/?status=draft").status_code == 200


def test_office_pages(world, as_role):
    for role in ("city_admin", "district_staff", "leader"):
        c = as_role(role)
        assert c.get("/reports/matrix").status_code == 200
        assert c.htmx_get("/reports/matrix?level=district&only=problems").status_code == 200
        assert c.get("/reports/bulletin").status_code == 200
        assert c.get("/reports/reminders").status_code == 200
    assert as_role("org_leader").get("/reports/matrix").status_code == 403
    assert as_role("reviewer").get("/reports/").status_code == 403


def test_pdfs(world, as_role):
    c = as_role("leader")
    for url in ("/reports/needs.pdf", "/reports/bulletin.pdf?year=2026&quarter=2"):
        resp = export_file(c, url)  # the bulletin is built by a job, then downloaded
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), url


def test_org_leader_opens_fills_and_submits(world, as_role):
    c = as_role("org_leader")
    y, m = _last_month()
    page = c.get("/reports/mine")
    assert page.status_code == 200 and "开始填报" in page.text
    resp = c.post("/reports/open", data={"unit": f"org-{world['org_a'].id}", "period": f"{y}-{m:02d}"})
    assert resp.status_code == 303
    report = db.session.scalar(db.select(MonthlyReport))
    assert c.get(f"/reports/{report.id}/edit").status_code == 200
    # autosave (HTMX)
    resp = c.post(f"/reports/{report.id}/autosave", headers={"HX-Request": "true"},
                  data={"version": report.version, "summary": "本月开展两次活动", "need_what": "助老理发",
                        "need_place": "幸福社区", "need_contact": "王芳", "need_when": "周六"})
    assert resp.status_code == 200 and "已自动保存" in resp.text and 'hx-swap-oob' in resp.text
    assert 'id="report-figures" hx-swap-oob="true"' in resp.text  # live figures refreshed with the save
    db.session.expire_all()
    report = db.session.get(MonthlyReport, report.id)
    assert report.summary == "本月开展两次活动" and report.needs[0].what == "助老理发"
    # submit via the full form
    resp = c.post(f"/reports/{report.id}/edit", data={"version": report.version, "summary": "本月开展两次活动",
                                                     "action": "submit"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(MonthlyReport, report.id).status == ReportStatus.SUBMITTED
    # locked now
    assert c.get(f"/reports/{report.id}/edit").status_code == 303


def test_stale_autosave_answers_a_conflict_and_keeps_the_text(world, as_role):
    r = _report(world)
    db.session.commit()
    c = as_role("org_leader")
    v = r.version
    assert "已自动保存" in c.post(f"/reports/{r.id}/autosave", data={"version": v, "summary": "窗口一"}).text
    resp = c.post(f"/reports/{r.id}/autosave", data={"version": v, "summary": "窗口二"})
    assert "保存冲突" in resp.text and "用本页内容覆盖保存" in resp.text
    # the full save answers 409 and re-shows what was typed
    resp = c.post(f"/reports/{r.id}/edit", data={"version": v, "summary": "窗口二的长文本"})
    assert resp.status_code == 409 and "窗口二的长文本" in resp.text
    db.session.expire_all()
    assert db.session.get(MonthlyReport, r.id).summary == "窗口一"
    # overwrite on purpose
    resp = c.post(f"/reports/{r.id}/edit", data={"version": v, "force_version": v + 1, "summary": "窗口二的长文本"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(MonthlyReport, r.id).summary == "窗口二的长文本"


def test_bad_draft_input_is_422_with_message(world, as_role):
    r = _report(world)
    db.session.commit()
    c = as_role("org_leader")
    resp = c.post(f"/reports/{r.id}/edit", data={"version": r.version, "summary": "x" * 6000})
    assert resp.status_code == 422 and "最多 5000 字" in resp.text
    resp = c.post(f"/reports/{r.id}/edit", data={"version": r.version, "summary": "", "action": "submit"})
    assert resp.status_code == 422 and "工作概况" in resp.text


def test_review_return_needs_comment_then_accept(world, as_role):
    r = _report(world, "submitted")
    db.session.commit()
    staff = as_role("district_staff")
    assert "审核通过" in staff.get(f"/reports/{r.id}").text
    resp = staff.post(f"/reports/{r.id}/transition", data={"action": "return", "comment": ""})
    assert resp.status_code == 422 and "退回意见" in resp.text
    assert staff.post(f"/reports/{r.id}/transition", data={"action": "return", "comment": "补充图片"}).status_code == 303
    leader = as_role("org_leader")
    assert "补充图片" in leader.get(f"/reports/{r.id}/edit").text
    assert leader.post(f"/reports/{r.id}/transition", data={"action": "resubmit"}).status_code == 303
    assert leader.post(f"/reports/{r.id}/transition", data={"action": "accept"}).status_code == 403
    assert staff.post(f"/reports/{r.id}/transition", data={"action": "accept"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(MonthlyReport, r.id).status == ReportStatus.ACCEPTED
    resp = staff.post(f"/reports/{r.id}/transition", data={"action": "return", "comment": "再改"})
    assert resp.status_code == 422 and "不能" in resp.text


def test_attachments_upload_checks_and_download(world, as_role, monkeypatch):
    # The size limit is lowered so the test request stays small; the rule is the same at 10 MB.
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 2000)
    r = _report(world)
    db.session.commit()
    c = as_role("org_leader")
    resp = c.post(f"/reports/{r.id}/attachments", data={"kind": "photo", "file": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件类型不支持" in resp.text
    big = b"%PDF-1.4\n" + b"0" * 2001
    resp = c.post(f"/reports/{r.id}/attachments", data={"kind": "plan", "file": (io.BytesIO(big), "方案.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件过大" in resp.text
    resp = c.post(f"/reports/{r.id}/attachments", data={"kind": "photo", "file": (io.BytesIO(_png()), "活动.png")},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    att = db.session.scalar(db.select(ReportAttachment))
    assert att.original_name == "活动.png" and att.thumb_name
    resp = c.get(f"/reports/attachments/{att.id}/thumb")
    assert resp.status_code == 200 and resp.data.startswith(b"\xff\xd8")
    resp.close()
    assert as_role("district_staff_2").get(f"/reports/attachments/{att.id}/thumb").status_code == 404
    for client in (c, as_role("district_staff")):
        resp = client.get(f"/reports/attachments/{att.id}")
        assert resp.status_code == 200 and resp.data.startswith(b"\x89PNG")
        resp.close()
    assert as_role("district_staff_2").get(f"/reports/attachments/{att.id}").status_code == 404
    assert as_role("org_leader_2").get(f"/reports/attachments/{att.id}").status_code == 404
    assert as_role("org_leader_2").post(f"/reports/attachments/{att.id}/delete").status_code == 404
    assert c.post(f"/reports/attachments/{att.id}/delete").status_code == 303
    assert db.session.scalar(db.select(db.func.count(ReportAttachment.id))) == 0


def test_need_rows_partials(world, as_role):
    c = as_role("org_leader")
    assert 'name="need_what"' in c.htmx_get("/reports/need-row").text
    resp = c.htmx_get("/reports/need-row/removed")
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "needs-changed"


def test_remind_and_notifications_flow(world, as_role):
    staff = as_role("district_staff")
    y, m = _last_month()
    resp = staff.post("/reports/remind", data={"level": "org", "period": f"{y}-{m:02d}"})
    assert resp.status_code == 303
    if local_today() > services.due_date(y, m):
        assert resp.headers["Location"].endswith("/reports/reminders")
        assert "赤坎区幸福社区志愿服务队" in staff.get("/reports/reminders").text
        leader = as_role("org_leader")
        page = leader.get("/reports/notifications")
        assert "催报" in page.text and "1 条未读" in page.text
        assert 'id="unread-notifications"' in leader.get("/").text  # the count in the layout
        note = db.session.scalar(db.select(Notification).where(Notification.user_id == world["org_leader"].id))
        assert as_role("org_leader_2").post(f"/reports/notifications/{note.id}/read").status_code == 404
        assert leader.post(f"/reports/notifications/{note.id}/read").status_code == 303
        assert "未读" not in leader.get("/reports/notifications").text
    assert as_role("org_leader").post("/reports/remind", data={"level": "org", "period": "2026-05"}).status_code == 403


def test_settings_deadline(world, as_role):
    c = as_role("city_admin")
    assert c.get("/reports/settings").status_code == 303  # the one policy settings page now
    resp = c.post("/settings/policy", data=policy_data(**{"reports.deadline_day": 40}))
    assert resp.status_code == 422 and "1–28" in resp.text
    assert c.post("/settings/policy", data=policy_data(**{"reports.deadline_day": 10})).status_code == 303
    assert services.deadline_day() == 10
    assert as_role("district_staff").get("/reports/settings").status_code == 403


def test_dashboard_tiles(world, as_role):
    _report(world, "submitted")
    db.session.commit()
    assert "待审核" in as_role("district_staff").get("/").text
    assert "月报" in as_role("org_leader").get("/").text


def test_district_report_shows_its_organizations(world, as_role):
    r = _report(world)
    services.save_draft(world["org_leader"], r, services.DraftData(summary="概况", needs=[
        {"what": "助老理发", "place": "幸福社区", "contact": "王芳 13812345678", "when": "周六"}]), r.version)
    services.transition(r, "submit", world["org_leader"])
    d = _report(world, unit="district_a", by="district_staff")
    db.session.commit()
    page = as_role("district_staff").get(f"/reports/{d.id}")
    assert page.status_code == 200 and "所辖组织月报" in page.text and world["org_a"].name in page.text
    assert "所辖组织提出的需求" in page.text and "助老理发" in page.text
    assert "王芳 138****5678" in page.text and "13812345678" not in page.text  # phones masked in text


def test_pending_filter_lists_first_and_repeated_submissions(world, as_role):
    a = _report(world, "submitted")
    y, m = services.shift_month(*_last_month(), -1)
    b = factories.monthly_report(world["org_leader"], world["org_a"], y, m, status="resubmitted")
    c = factories.monthly_report(world["org_leader"], world["org_a"], *services.shift_month(y, m, -1),
                                 status="accepted")
    db.session.commit()
    text = as_role("district_staff").htmx_get("/reports/?status=pending").text
    assert f"/reports/{a.id}\"" in text and f"/reports/{b.id}\"" in text and f"/reports/{c.id}\"" not in text


def test_this_months_report_saves_but_cannot_be_submitted_yet(world, as_role):
    c = as_role("org_leader")
    today = local_today()
    resp = c.post("/reports/open", data={"unit": f"org-{world['org_a'].id}", "period": f"{today:%Y-%m}"})
    assert resp.status_code == 303
    report = db.session.scalar(db.select(MonthlyReport))
    resp = c.post(f"/reports/{report.id}/edit", data={"version": report.version, "summary": "本月上半月的工作",
                                                     "action": "submit"})
    assert resp.status_code == 422 and "尚未结束" in resp.text and "本月上半月的工作" in resp.text
    db.session.expire_all()
    report = db.session.get(MonthlyReport, report.id)
    assert report.status == ReportStatus.DRAFT and report.figures_frozen_at is None and report.summary == ""


def test_matrix_district_cell_is_styled_to_stay_on_one_line(world, as_role):
    factories.monthly_report(world["org_leader"], world["org_a"], *_last_month())
    db.session.commit()
    page = as_role("district_staff").get("/reports/matrix")
    assert page.status_code == 200 and '<td class="mx-district">' in page.text
