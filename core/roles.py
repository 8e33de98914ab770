"""The five roles (DOMAIN.md, roles and scope). Every feature and the scope gate decide by role, so the
roles live in core; accounts (blueprints/accounts/models.py) stores a user's role and re-exports them."""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    CITY_ADMIN = "city_admin"
    DISTRICT_STAFF = "district_staff"
    ORG_LEADER = "org_leader"
    LEADER = "leader"
    REVIEWER = "reviewer"
    VOLUNTEER = "volunteer"  # a registered volunteer: their own person record only (issue 17)

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITY_ADMIN: "市文明办管理员",
    Role.DISTRICT_STAFF: "县区文明办工作人员",
    Role.ORG_LEADER: "组织负责人",
    Role.LEADER: "领导",
    Role.REVIEWER: "评审专家",
    Role.VOLUNTEER: "志愿者",
}


# Roles whose accounts are staff of an office or an organization (everything but the volunteers themselves).
STAFF_ROLES = frozenset(r for r in Role if r != Role.VOLUNTEER)
