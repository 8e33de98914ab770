"""嘉许回馈 (seeds 001, 002, 004): items that organizations and communities publish, and the ledger of
redemptions. A volunteer's balance is derived (verified hours × the rate, minus what was redeemed),
never stored; a redemption is never deleted, a mistake is corrected by a reversing entry (红字冲销),
like the funding ledger (blueprints/funding).

An item and a redemption belong to a *provider*: an organization or a region (a community, a
street, a district), exactly one of the two; the scope rule is the funding ledger's holder rule."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from core.extensions import db, str_enum
from core.timeutil import utcnow

if TYPE_CHECKING:
    from blueprints.orgs.models import Organization
    from blueprints.regions.models import Region
    from blueprints.volunteers.models import Volunteer

POINTS = Numeric(8, 1)  # points to one decimal, like hours; never float
_ONE_PROVIDER = "(organization_id IS NULL) <> (region_id IS NULL)"


class RewardKind(enum.StrEnum):
    """What an item is (issue 18): a community service, a benefit, a priority (就学、就医 …)."""

    SERVICE = "service"
    BENEFIT = "benefit"
    PRIORITY = "priority"

    @property
    def label(self) -> str:
        return {"service": "社区服务", "benefit": "爱心回馈", "priority": "优先待遇"}[self.value]


class ProviderMixin:
    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        if self.organization_id:
            org = self.organization
            return (org.region_id if org is not None else None), self.organization_id
        return self.region_id, None

    @property
    def provider(self):
        return self.organization if self.organization_id else self.region

    @property
    def provider_name(self) -> str:
        p = self.provider
        return p.name if p is not None else "—"


class RewardItem(ProviderMixin, db.Model):
    __tablename__ = "reward_item"
    __audit__ = True
    __audit_noun__ = "回馈项目"
    __audit_fields__ = {
        "title": "名称", "kind": "类型", "description": "内容说明", "organization_id": "提供组织", "region_id": "提供区域",
        "cost": "所需积分", "min_star": "星级条件", "core_only": "仅限骨干", "active": "开放兑换", "created_by_id": "发布人",
    }
    __table_args__ = (
        CheckConstraint(_ONE_PROVIDER, name="one_provider"),
        CheckConstraint("cost >= 0", name="cost_nonneg"),
        CheckConstraint("min_star >= 0 AND min_star <= 5", name="min_star_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    kind: Mapped[RewardKind] = mapped_column(str_enum(RewardKind, 16), default=RewardKind.SERVICE)
    description: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    cost: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("0"))  # points per redemption
    min_star: Mapped[int] = mapped_column(Integer, default=0)  # 0: any; 1–5: 一星 … 五星 at least
    core_only: Mapped[bool] = mapped_column(Boolean, default=False)  # 004/001: 骨干 only
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped["Organization | None"] = relationship(foreign_keys=[organization_id])
    region: Mapped["Region | None"] = relationship(foreign_keys=[region_id])

    @property
    def audit_label(self) -> str:
        return f"{self.provider_name}：{self.title}"


class Redemption(ProviderMixin, db.Model):
    """One line of the ledger: `points` is what a redemption spent (0 for an item granted by star or
    骨干 alone); a reversal carries the negated points of the entry it corrects and points at it (one
    reversal per entry)."""

    __tablename__ = "reward_redemption"
    __audit__ = True
    __audit_noun__ = "回馈兑换"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "item_id": "回馈项目", "organization_id": "提供组织", "region_id": "提供区域",
        "points": "积分", "redeemed_on": "兑换日期", "note": "备注", "reverses_id": "冲销的记录", "reason": "冲销原因",
        "created_by_id": "登记人",
    }
    __table_args__ = (
        CheckConstraint(_ONE_PROVIDER, name="one_provider"),
        CheckConstraint("(reverses_id IS NULL AND points >= 0) OR (reverses_id IS NOT NULL AND points <= 0)",
                        name="points_sign"),
        Index("ix_reward_redemption_volunteer", "volunteer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("reward_item.id"), index=True)
    # Where it was redeemed (the item's provider, copied): the district's "what was redeemed where".
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    points: Mapped[Decimal] = mapped_column(POINTS)
    redeemed_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("reward_redemption.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped["Volunteer"] = relationship()
    item: Mapped[RewardItem] = relationship()
    organization: Mapped["Organization | None"] = relationship(foreign_keys=[organization_id])
    region: Mapped["Region | None"] = relationship(foreign_keys=[region_id])
    reverses: Mapped["Redemption | None"] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by")
    reversed_by: Mapped["Redemption | None"] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False)

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def audit_label(self) -> str:
        who = self.volunteer.name if self.volunteer is not None else "志愿者"
        what = self.item.title if self.item is not None else "回馈项目"
        return f"{who} {'冲销' if self.is_reversal else '兑换'} {what}"


def _items_for_volunteer(user):
    """A volunteer sees the active items of their organizations and of the regions above them (the
    community, the street, the district, the city where their organizations are)."""
    from blueprints.orgs.models import Organization
    from blueprints.regions.models import Region
    from blueprints.volunteers.models import Membership

    org_ids = select(Membership.organization_id).where(Membership.volunteer_id == user.volunteer_id)
    org_region = aliased(Region)
    region_ids = (select(Region.id).join(org_region, org_region.path.startswith(Region.path, autoescape=False))
                  .join(Organization, Organization.region_id == org_region.id).where(Organization.id.in_(org_ids)))
    return RewardItem.active.is_(True) & (RewardItem.organization_id.in_(org_ids) | RewardItem.region_id.in_(region_ids))


def _register_scope() -> None:
    from blueprints.funding.models import holder_rule
    from core import scope

    scope.register(RewardItem, custom=holder_rule(RewardItem.region_id, RewardItem.organization_id),
                   volunteer=_items_for_volunteer)
    scope.register(Redemption, custom=holder_rule(Redemption.region_id, Redemption.organization_id),
                   volunteer=lambda user: Redemption.volunteer_id == user.volunteer_id)


_register_scope()
