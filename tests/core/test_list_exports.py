"""XLSX export of every filtered list (issue 15): 服务台账, 活动, 保单, 月报 list and matrix. Each export holds
what the list's current filters show, within the user's scope, through the one writer (core/exports.py)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from core.exports import XLSX_MIME
from core.timeutil import local_today
from tests import factories
from tests.jobs import export_file

# endpoint → roles that may open the list (and so its export)
LISTS = {
    "/volunteers/records/export.xlsx": ("city_admin", "district_staff", "org_leader", "leader"),
    "/activities/export.xlsx": ("city_admin", "district_staff", "org_leader", "leader"),
    "/insurance/export.xlsx": ("city_admin", "district_staff", "org_leader", "leader"),
    "/reports/export.xlsx": ("city_admin", "district_staff", "org_leader", "leader"),
    "/reports/matrix.xlsx": ("city_admin", "district_staff", "leader"),
}
ROLES = ("city_admin", "district_staff", "district_staff_2", "org_leader", "org_leader_2", "leader",
         "district_leader", "reviewer")


def sheet(resp) -> list[list]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == XLSX_MIME
    assert "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data), read_only=True).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def text(rows) -> str:
    return "\n".join(" ".join("" if c is None else str(c) for c in r) for r in rows)


@pytest.fixture
def data(world):
    """One of everything in each district: a volunteer with a service record, an activity, a policy,
    a monthly report."""
    out = {}
    today = local_today()
    last = today.replace(day=1) - timedelta(days=1)
    for key, org, leader, staff in (("a", world["org_a"], world["org_leader"], world["district_staff"]),
                                    ("b", world["org_b"], world["org_leader_2"], world["district_staff_2"])):
        v = factories.volunteer(org, name="赤坎甲" if key == "a" else "霞山乙", phone="13800138000",
                                registered_on=today - timedelta(days=30))
        factories.service_record(v, org, day=today - timedelta(days=2), content=f"清洁{key}", by=leader)
        factories.activity(org, title=f"海滨清洁{key}", held_on=today - timedelta(days=3))
        factories.insurance_policy(org, volunteers=[v], policy_no=f"PN-{key}-001")
        factories.monthly_report(leader, org, last.year, last.month, summary=f"月报{key}")
        out[key] = v
    factories.db.session.commit()
    return out


@pytest.mark.parametrize("url", sorted(LISTS))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_export_or_403(as_role, data, url, role):
    resp = export_file(as_role(role), url)  # the export runs as a job; its file is what the user gets
    allowed = role.removesuffix("_2") in LISTS[url] or (role == "district_leader" and "leader" in LISTS[url])
    if allowed:
        sheet(resp)
    else:
        assert resp.status_code == 403


@pytest.mark.parametrize("url, mine, theirs", [
    ("/volunteers/records/export.xlsx", "赤坎甲", "霞山乙"),
    ("/activities/export.xlsx", "海滨清洁a", "海滨清洁b"),
    ("/insurance/export.xlsx", "PN-a-001", "PN-b-001"),
    ("/reports/export.xlsx", "赤坎区幸福社区志愿服务队", "霞山区幸福社区志愿服务队"),
    ("/reports/matrix.xlsx?level=org", "赤坎区幸福社区志愿服务队", "霞山区幸福社区志愿服务队"),
])
def test_district_export_holds_only_its_district(as_role, data, url, mine, theirs):
    for role, present, absent in (("district_staff", mine, theirs), ("district_staff_2", theirs, mine)):
        body = text(sheet(export_file(as_role(role), url)))
        assert present in body and absent not in body
    body = text(sheet(export_file(as_role("city_admin"), url)))
    assert mine in body and theirs in body


def test_filtering_on_another_districts_org_exports_nothing_of_it(as_role, world, data):
    other = world["org_b"].id
    for url in ("/volunteers/records/export.xlsx", "/activities/export.xlsx", "/insurance/export.xlsx"):
        rows = sheet(export_file(as_role("district_staff"), f"{url}?org={other}"))
        assert len(rows) == 1, url  # the header only: the filter cannot widen the scope


def test_exports_follow_the_lists_filters(as_role, world, data):
    client = as_role("city_admin")
    rows = sheet(export_file(client, f"/volunteers/records/export.xlsx?org={world['org_a'].id}&status=verified"))
    assert rows[0][:3] == ["服务日期", "志愿者编号", "姓名"]
    assert [r[2] for r in rows[1:]] == ["赤坎甲"]
    rows = sheet(export_file(client, "/activities/export.xlsx?q=清洁b"))
    assert [r[3] for r in rows[1:]] == ["海滨清洁b"]
    assert rows[1][0].date() == local_today() - timedelta(days=3)  # a typed date, not text
    rows = sheet(export_file(client, "/insurance/export.xlsx?q=PN-a"))
    assert [r[1] for r in rows[1:]] == ["PN-a-001"]
    rows = sheet(export_file(client, "/reports/export.xlsx?level=org&status=draft"))
    assert {r[1] for r in rows[1:]} == {"赤坎区幸福社区志愿服务队", "霞山区幸福社区志愿服务队"}
    assert sheet(export_file(client, "/reports/export.xlsx?status=accepted"))[1:] == []
    matrix = sheet(export_file(client, f"/reports/matrix.xlsx?level=org&district={world['district_a'].id}"))
    assert matrix[0][:3] == ["组织", "区县", "1 月"] and [r[0] for r in matrix[1:]] == ["赤坎区幸福社区志愿服务队"]


def test_exports_carry_no_personal_data(as_role, data):
    client = as_role("city_admin")
    for url in LISTS:
        body = text(sheet(export_file(client, url)))
        assert "13800138000" not in body, url
        for v in data.values():
            assert v.id_masked not in body, url  # not even the masked number: these lists do not show it


def test_list_pages_link_to_their_export_with_the_filters(as_role, world, data):
    client = as_role("city_admin")
    html = client.get("/activities/?q=清洁").get_data(as_text=True)
    assert 'id="activity-export"' in html and "/activities/export.xlsx?q=" in html
    partial = client.htmx_get("/activities/?q=清洁a").get_data(as_text=True)
    assert 'hx-swap-oob="outerHTML"' in partial and "/activities/export.xlsx?q=" in partial
    for url, link in (("/volunteers/records/", "/volunteers/records/export.xlsx"), ("/insurance/", "/insurance/export.xlsx"),
                      ("/reports/", "/reports/export.xlsx"), ("/reports/matrix", "/reports/matrix.xlsx")):
        assert link in client.get(url).get_data(as_text=True), url
