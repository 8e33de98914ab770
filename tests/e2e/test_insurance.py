"""Browser: a risky activity warns about uninsured participants; the org leader adds a policy choosing
the volunteers with the HTMX picker and a scan, sees the coverage, and the warning disappears."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from blueprints.activities.models import Participant
from core.extensions import db
from core.timeutil import local_today
from tests import factories as f
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_policy_with_picker_covers_risky_activity(page, world, tmp_path):
    org = world["org_a"]
    a = f.activity_volunteer(org, name="陈海燕")
    b = f.activity_volunteer(org, name="李志强")
    today = local_today()
    act = f.activity(org, title="河道清洁巡护", held_on=today + timedelta(days=3), risky=True)
    for v in (a, b):
        db.session.add(Participant(activity_id=act.id, volunteer_id=v.id))
    act.participant_count = 2
    db.session.commit()

    browser_login(page, "org_leader")
    page.goto(f"/activities/{act.id}")
    assert page.locator("#uncovered-participants li").count() == 2
    page.click("text=为参与者登记保单")
    page.wait_for_url(re.compile(r".*/insurance/new.*"))

    # The head count applies only to a policy that names nobody.
    assert page.is_hidden("#head_count")
    page.check("input[name=mode][value=headcount]")
    expect(page.locator("#head_count")).to_be_visible()
    expect(page.locator("#picker")).to_be_hidden()
    page.check("input[name=mode][value=named]")
    expect(page.locator("#picker")).to_be_visible()

    # The organization is preselected: the picker lists its volunteers; search narrows, choices stay.
    page.fill("#vq", "陈")
    expect(page.locator("#picker")).not_to_contain_text("李志强")
    page.check("#picker input[value='%d']" % a.id)
    page.fill("#vq", "")
    page.wait_for_selector("#picker >> text=李志强")
    assert page.is_checked("#picker input[value='%d']" % a.id)
    page.click("#pick-all")
    page.wait_for_selector("#picked-count:has-text('已选 2 人')")

    page.fill("#insurer", "中国人寿")
    page.fill("#policy_no", "E2E-2026-001")
    page.fill("#product", "志愿者团体意外伤害保险")
    page.fill("#start_date", (today - timedelta(days=1)).isoformat())
    page.fill("#end_date", (today + timedelta(days=300)).isoformat())
    page.fill("#sum_insured", "200000")
    page.fill("#premium", "-1")
    page.click("button:has-text('保存')")
    page.wait_for_selector(".field-error:has-text('保费必须大于 0')")
    assert page.input_value("#policy_no") == "E2E-2026-001"
    assert page.is_checked("#picker input[value='%d']" % b.id)  # the choices survive the error
    page.fill("#premium", "96.00")
    scan = tmp_path / "保单.pdf"
    scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.set_input_files("#scan", str(scan))
    page.click("button:has-text('保存')")
    page.wait_for_selector(".flash-success")
    assert page.locator("text=被保险人名单（2 人）").count() == 1
    assert page.locator("a:has-text('保单.pdf')").count() == 1

    # Coverage of the organization is now complete.
    page.click("nav.tabs >> text=覆盖率")
    page.wait_for_selector("text=按组织")
    page.click("text=未覆盖名单")
    page.wait_for_selector("#org-share")
    assert page.inner_text("#org-share") == "100.0%"

    # The warning on the risky activity is gone.
    page.goto(f"/activities/{act.id}")
    page.wait_for_selector("text=全部参与者在活动当日均有保险")
    assert page.locator("#uncovered-participants").count() == 0
