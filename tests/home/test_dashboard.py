"""Home page: a dashboard per role with real figures."""
from __future__ import annotations

import re


def test_city_admin_dashboard_counts_regions_and_accounts(as_role, world):
    body = as_role("city_admin").get("/").get_data(as_text=True)
    # 2 districts, 2 towns, 4 communities in the world.
    assert re.search(r'data-figure="regions.district" data-value="2"', body)
    assert re.search(r'data-figure="regions.community" data-value="4"', body)
    assert "账户" in body and "最近操作" in body


def test_district_dashboard_counts_only_its_district(as_role, world):
    body = as_role("district_staff").get("/").get_data(as_text=True)
    assert re.search(r'data-figure="regions.community" data-value="2"', body)


def test_leader_and_reviewer_dashboards(as_role, world):
    leader = as_role("leader").get("/").get_data(as_text=True)
    assert "领导" in leader and "最近操作" not in leader
    reviewer = as_role("reviewer").get("/").get_data(as_text=True)
    assert "评审专家" in reviewer and "区域管理" not in reviewer


def test_navigation_follows_the_role(as_role, world):
    admin = as_role("city_admin").get("/").get_data(as_text=True)
    assert "账户管理" in admin and "操作日志" in admin and "区域管理" in admin
    org = as_role("org_leader").get("/").get_data(as_text=True)
    assert "账户管理" not in org and "区域管理" not in org
