"""Scope by URL: a 霞山区 user cannot read or change a 赤坎区 entry, project, audit or attachment;
an org leader sees only their organization's books, not the district's."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.funding import services
from blueprints.funding.models import FundAudit, LedgerEntry, ServiceProject
from core.extensions import db
from core.timeutil import local_today
from tests import factories

TODAY = local_today()
LAST_YEAR = TODAY.year - 1


@pytest.fixture
def chikan(world):
    """赤坎区 books: an org entry with an attachment, a district entry, a project in 实施, an audit."""
    from core.uploads import store_bytes

    stored = store_bytes(b"%PDF-1.4\n%%EOF\n", "pdf", "funding", "凭证.pdf")
    entry = factories.ledger_entry(world["org_a"], "880.00", entry_date=date(LAST_YEAR, 4, 1), voucher_no="CK-ORG",
                                   attachment=stored.name, attachment_name="凭证.pdf")
    district_entry = factories.ledger_entry(world["district_a"], "60000.00", entry_date=date(LAST_YEAR, 1, 2),
                                            voucher_no="CK-DIST")
    project = factories.service_project(world["district_a"], world["org_a"], status="in_progress")
    audit = factories.fund_audit(world["org_a"], date(LAST_YEAR, 1, 1), date(LAST_YEAR, 3, 31), date(LAST_YEAR, 5, 1),
                                 report=stored.name, report_name="报告.pdf")
    audit.items.append(__import__("blueprints.funding.models", fromlist=["RectificationItem"]).RectificationItem(
        description="补齐凭证"))
    payment = services.record_payment(world["city_admin"], project, TODAY, "100.00")
    db.session.commit()
    return {"entry": entry, "district_entry": district_entry, "project": project, "audit": audit, "payment": payment}


def _get(c, url):
    resp = c.get(url)
    resp.close()
    return resp.status_code


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_read_chikan_records_by_url(as_role, world, chikan, role):
    c = as_role(role)
    e, p, a = chikan["entry"], chikan["project"], chikan["audit"]
    for url in (f"/funding/entries/{e.id}", f"/funding/entries/{e.id}/attachment", f"/funding/entries/{e.id}/edit",
                f"/funding/entries/{e.id}/reverse", f"/funding/projects/{p.id}", f"/funding/audits/{a.id}",
                f"/funding/audits/{a.id}/report", f"/funding/orgs/{world['org_a'].id}",
                f"/funding/orgs/{world['org_a'].id}/statement.pdf", f"/funding/regions/{world['district_a'].id}",
                f"/funding/entries/{chikan['district_entry'].id}"):
        assert _get(c, url) in (403, 404), url
    html = c.get("/funding/").get_data(as_text=True)
    assert "CK-ORG" not in html and "CK-DIST" not in html
    assert "¥880.00" not in c.get(f"/funding/?holder=org-{world['org_a'].id}").get_data(as_text=True)
    assert "社区关爱服务购买项目" not in c.get("/funding/projects/").get_data(as_text=True)
    assert world["org_a"].name not in c.get("/funding/audits/").get_data(as_text=True)
    assert world["org_a"].name not in c.get(f"/funding/balances?year={LAST_YEAR}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["district_staff_2", "org_leader_2"])
def test_other_district_cannot_change_chikan_records_by_url(as_role, world, chikan, role):
    c = as_role(role)
    e, p, a = chikan["entry"], chikan["project"], chikan["audit"]
    item = a.items[0]
    posts = [
        (f"/funding/entries/{e.id}/edit", {"amount": "1.00", "entry_date": f"{LAST_YEAR}-04-01", "kind": "income",
                                            "source": "财政拨款"}),
        (f"/funding/entries/{e.id}/delete", {}),
        (f"/funding/entries/{e.id}/reverse", {"reason": "恶意冲销"}),
        (f"/funding/projects/{p.id}/transition", {"action": "submit"}),
        (f"/funding/projects/{p.id}/pay", {"paid_on": TODAY.isoformat(), "amount": "100"}),
        (f"/funding/projects/{p.id}/edit", {"title": "改名"}),
        (f"/funding/audits/{a.id}/items", {"description": "x"}),
        (f"/funding/audits/items/{item.id}", {"status": "done", "result": "x"}),
        (f"/funding/payments/{chikan['payment'].id}/reverse", {"reason": "恶意冲销"}),
    ]
    for url, data in posts:
        assert c.post(url, data=data).status_code in (403, 404), url
    # Nor can they book into 赤坎区's ledgers through the form's holder field.
    resp = c.post("/funding/entries/new", data={
        "holder": f"org-{world['org_a'].id}", "entry_date": TODAY.isoformat(), "kind": "income", "amount": "5",
        "source": "财政拨款"})
    assert resp.status_code in (403, 422)
    resp = c.post("/funding/entries/new", data={
        "holder": f"region-{world['district_a'].id}", "entry_date": TODAY.isoformat(), "kind": "income", "amount": "5",
        "source": "财政拨款"})
    assert resp.status_code in (403, 422)
    db.session.expire_all()
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.id == e.id)).amount == Decimal("880.00")
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == e.id)) is None
    assert len(db.session.scalars(select(LedgerEntry)).all()) == 4
    assert not chikan["payment"].is_reversed
    assert db.session.get(ServiceProject, p.id).status.value == "in_progress"
    assert db.session.get(FundAudit, a.id).items[0].status.value == "open"


def test_org_leader_sees_own_org_but_not_the_district_ledger(as_role, world, chikan):
    c = as_role("org_leader")
    assert _get(c, f"/funding/entries/{chikan['entry'].id}") == 200
    assert _get(c, f"/funding/entries/{chikan['entry'].id}/attachment") == 200
    assert _get(c, f"/funding/entries/{chikan['district_entry'].id}") == 404
    assert _get(c, f"/funding/regions/{world['district_a'].id}") == 404
    assert _get(c, f"/funding/projects/{chikan['project'].id}") == 200  # they provide it
    assert _get(c, f"/funding/audits/{chikan['audit'].id}") == 200
    html = c.get("/funding/").get_data(as_text=True)
    assert "CK-ORG" in html and "CK-DIST" not in html


def test_district_staff_sees_district_and_its_orgs(as_role, world, chikan):
    c = as_role("district_staff")
    html = c.get("/funding/").get_data(as_text=True)
    assert "CK-ORG" in html and "CK-DIST" in html
    assert _get(c, f"/funding/regions/{world['district_a'].id}") == 200
    assert _get(c, f"/funding/regions/{world['city'].id}") == 404
    assert _get(c, f"/funding/regions/{world['district_b'].id}") == 404


def test_city_wide_project_with_a_chikan_provider_is_read_only_for_district_staff(as_role, world):
    p = factories.service_project(world["city"], world["org_a"], title="全市项目", status="tendering")
    db.session.commit()
    c = as_role("district_staff")
    assert _get(c, f"/funding/projects/{p.id}") == 200
    assert c.post(f"/funding/projects/{p.id}/transition", data={"action": "award"}).status_code == 403
    assert _get(as_role("district_staff_2"), f"/funding/projects/{p.id}") == 404
    assert c.post(f"/funding/projects/{p.id}/transition", data={"action": "award"}).status_code == 403
    assert as_role("city_admin").post(f"/funding/projects/{p.id}/transition", data={"action": "award"}).status_code == 303


def test_holders_offered_follow_the_scope(world):
    keys = {h.key for h in services.holders_for(world["district_staff"])}
    assert keys == {f"region-{world['district_a'].id}", f"org-{world['org_a'].id}"}
    assert {h.key for h in services.holders_for(world["org_leader"])} == {f"org-{world['org_a'].id}"}
    assert f"region-{world['city'].id}" in {h.key for h in services.holders_for(world["city_admin"])}
    assert services.parse_holder(world["district_staff"], f"org-{world['org_b'].id}") is None
    assert services.parse_holder(world["district_staff"], "region-abc") is None
    assert services.parse_holder(world["org_leader"], f"region-{world['district_a'].id}") is None


def test_district_leader_reads_their_district_only_and_changes_nothing(as_role, world, chikan):
    b = factories.ledger_entry(world["org_b"], "12.00", voucher_no="XS-ORG")
    db.session.commit()
    c = as_role("district_leader")
    assert _get(c, f"/funding/entries/{chikan['entry'].id}") == 200
    assert _get(c, f"/funding/regions/{world['district_a'].id}") == 200
    assert _get(c, f"/funding/entries/{b.id}") == 404
    html = c.get("/funding/").get_data(as_text=True)
    assert "CK-ORG" in html and "XS-ORG" not in html and "记一笔" not in html
    assert c.post(f"/funding/entries/{chikan['entry'].id}/reverse", data={"reason": "x"}).status_code == 403
    assert c.post(f"/funding/audits/items/{chikan['audit'].items[0].id}", data={"status": "done", "result": "x"}).status_code == 403
    assert c.get("/funding/entries/new").status_code == 403
