"""Demo accounts, all with the password Demo@2026 (README)."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.accounts.models import Role, User
from core.cli import DEMO_PASSWORD
from core.extensions import db


def seed(ctx: dict) -> None:
    d = ctx["districts"]
    org_a, org_b = ctx["lead_orgs"][:2]
    specs = [
        ("city_admin", "市文明办管理员", Role.CITY_ADMIN, ctx["city"], []),
        ("district_staff", "赤坎区文明办", Role.DISTRICT_STAFF, d["赤坎区"], []),
        ("district_staff_2", "霞山区文明办", Role.DISTRICT_STAFF, d["霞山区"], []),
        ("org_leader", "中华街道志愿服务队负责人", Role.ORG_LEADER, None, [org_a]),
        ("org_leader_2", "解放街道党员志愿服务队负责人", Role.ORG_LEADER, None, [org_b]),
        ("leader", "市文明办领导", Role.LEADER, ctx["city"], []),
        ("reviewer", "评审专家", Role.REVIEWER, None, []),
    ]
    users = {}
    for username, display, role, region, orgs in specs:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=display, role=role, region=region)
            user.set_password(DEMO_PASSWORD)
            user.organizations = list(orgs)
            db.session.add(user)
        users[username] = user
    db.session.flush()
    ctx["users"] = users
