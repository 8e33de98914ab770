"""Foundation demo organizations: the two led by the demo org leaders (issue #4 adds the registry)."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region
from core.extensions import db

LEAD_ORGS = [
    ("赤坎区中华街道社区志愿服务队", "社区志愿服务队", "440802001"),
    ("霞山区解放街道党员志愿服务队", "党员志愿服务队", "440803001"),
]


def seed(ctx: dict) -> None:
    orgs = []
    for name, kind, region_code in LEAD_ORGS:
        org = db.session.scalar(select(Organization).where(Organization.name == name))
        if org is None:
            region = db.session.scalar(select(Region).where(Region.code == region_code))
            org = Organization(name=name, kind=kind, region=region, status=OrgStatus.APPROVED)
            db.session.add(org)
        orgs.append(org)
    db.session.flush()
    ctx["lead_orgs"] = orgs
