"""Builders of realistic records — the one place every test gets its data from."""
from __future__ import annotations

import itertools
from functools import lru_cache

from werkzeug.security import generate_password_hash

from blueprints.accounts.models import Role, User, UserStatus
from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel, RegionYearFigure
from blueprints.regions.services import create_region
from core.extensions import db

PASSWORD = "Test@2026x"
_seq = itertools.count(1)


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    # A cheap hash for tests (the app's own default is scrypt); the check function reads either.
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


def region(parent: Region | None, name: str, code: str | None = None, level: RegionLevel | None = None) -> Region:
    return create_region(parent, name, code, level=level)


def city_tree() -> dict:
    """湛江市 with 赤坎区 and 霞山区, one street and two communities each, and 2026 figures."""
    city = region(None, "湛江市", "440800", RegionLevel.CITY)
    out = {"city": city}
    for key, name, code, street in (("a", "赤坎区", "440802", "中华街道"), ("b", "霞山区", "440803", "解放街道")):
        district = region(city, name, code)
        town = region(district, street, code + "001")
        out[f"district_{key}"] = district
        out[f"town_{key}"] = town
        out[f"community_{key}"] = region(town, "幸福社区", code + "001001")
        out[f"community_{key}2"] = region(town, "和平社区", code + "001002")
        db.session.add(RegionYearFigure(region=district, year=2026, population=300000, urban_population=250000,
                                        party_members=12000, league_members=15000))
    db.session.flush()
    return out


def org(region_: Region, name: str | None = None, status: OrgStatus = OrgStatus.APPROVED, **kw) -> Organization:
    o = Organization(name=name or f"测试志愿服务队{next(_seq)}", region=region_, status=status, **kw)
    db.session.add(o)
    db.session.flush()
    return o


def user(role: Role | str, username: str | None = None, region: Region | None = None,
         orgs: list[Organization] | None = None, password: str = PASSWORD, **kw) -> User:
    u = User(username=username or f"user{next(_seq)}", display_name=kw.pop("display_name", "测试用户"),
             role=Role(role), region=region, status=kw.pop("status", UserStatus.ACTIVE), **kw)
    u.password_hash = _hash(password)
    u.organizations = list(orgs or [])
    db.session.add(u)
    db.session.flush()
    return u


def world() -> dict:
    """A city, two districts, an organization in each, and one account of every role."""
    w = city_tree()
    w["org_a"] = org(w["community_a"], "赤坎区幸福社区志愿服务队")
    w["org_b"] = org(w["community_b"], "霞山区幸福社区志愿服务队")
    w["city_admin"] = user(Role.CITY_ADMIN, "city_admin", w["city"])
    w["district_staff"] = user(Role.DISTRICT_STAFF, "district_staff", w["district_a"])
    w["district_staff_2"] = user(Role.DISTRICT_STAFF, "district_staff_2", w["district_b"])
    w["org_leader"] = user(Role.ORG_LEADER, "org_leader", orgs=[w["org_a"]])
    w["org_leader_2"] = user(Role.ORG_LEADER, "org_leader_2", orgs=[w["org_b"]])
    w["leader"] = user(Role.LEADER, "leader", w["city"])
    w["district_leader"] = user(Role.LEADER, "district_leader", w["district_a"])
    w["reviewer"] = user(Role.REVIEWER, "reviewer")
    db.session.commit()
    return w
