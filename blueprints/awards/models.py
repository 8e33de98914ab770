"""Commendation (评选表彰, DOMAIN.md "Commendation"; seeds 000, 002, 003, 004).

A campaign (one per year and title) carries its award kinds — each with a nominee type, a total quota,
per-district quotas and eligibility rules — its scoring criteria and its dates. Organizations nominate;
a nomination moves through an explicit state machine (services.transition) and every step is kept in
NominationStep. Reviewers assigned to the campaign (PanelMember) score each recommended nomination per
criterion (ScoreSheet). During 公示 anyone may raise an Objection, which the city admin resolves.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, and_, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.accounts.models import Role, User
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import scope
from core.extensions import db, nonnegative, str_enum
from core.timeutil import utcnow
from core.workflow import StepMixin


class NomineeType(enum.StrEnum):
    VOLUNTEER = "volunteer"
    PROJECT = "project"
    ORGANIZATION = "organization"

    @property
    def label(self) -> str:
        return {"volunteer": "志愿者", "project": "志愿服务项目", "organization": "志愿服务组织"}[self.value]


class CampaignStage(enum.StrEnum):
    NOMINATING = "nominating"  # 推荐申报 and district review
    SCORING = "scoring"  # 市级评审
    RANKED = "ranked"  # scoring closed, results ranked
    NOTICE = "notice"  # 公示
    DECIDED = "decided"  # 表彰决定

    @property
    def label(self) -> str:
        return {"nominating": "推荐申报", "scoring": "评审打分", "ranked": "评审结束", "notice": "公示中",
                "decided": "已表彰"}[self.value]

    @property
    def tone(self) -> str:
        return {"nominating": "blue", "scoring": "amber", "ranked": "amber", "notice": "blue",
                "decided": "green"}[self.value]


STAGE_ORDER = list(CampaignStage)


class NominationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECOMMENDED = "recommended"
    REJECTED = "rejected"
    RANKED = "ranked"
    PUBLICIZED = "publicized"
    NOT_SELECTED = "not_selected"
    AWARDED = "awarded"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已提交", "recommended": "区级已推荐", "rejected": "区级未推荐",
                "ranked": "已评审排名", "publicized": "公示中", "not_selected": "未入选",
                "awarded": "已获表彰"}[self.value]

    @property
    def tone(self) -> str:
        return {"draft": "neutral", "submitted": "blue", "recommended": "blue", "rejected": "red",
                "ranked": "amber", "publicized": "amber", "not_selected": "neutral",
                "awarded": "green"}[self.value]


class Campaign(db.Model):
    __tablename__ = "award_campaign"
    __audit__ = True
    __table_args__ = nonnegative("deeds_limit")

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(128))
    granting_unit: Mapped[str] = mapped_column(String(128), default="湛江市精神文明建设委员会")
    stage: Mapped[CampaignStage] = mapped_column(str_enum(CampaignStage, 16), default=CampaignStage.NOMINATING,
                                                 index=True)
    nomination_start: Mapped[date] = mapped_column(Date)
    nomination_end: Mapped[date] = mapped_column(Date)
    district_deadline: Mapped[date] = mapped_column(Date)  # 区级推荐截止
    review_deadline: Mapped[date] = mapped_column(Date)  # 市级评审截止
    notice_start: Mapped[date] = mapped_column(Date)
    notice_end: Mapped[date] = mapped_column(Date)
    presentation_date: Mapped[date] = mapped_column(Date)  # 003: 3月5日, 5月4日, 12月5日
    deeds_limit: Mapped[int] = mapped_column(Integer, default=2000)  # 事迹材料 max characters
    # [{"name": "服务时长与频次", "max": 30}, ...]
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kinds: Mapped[list["AwardKind"]] = relationship(back_populates="campaign", order_by="AwardKind.position",
                                                    cascade="all, delete-orphan")
    panel: Mapped[list["PanelMember"]] = relationship(back_populates="campaign", cascade="all, delete-orphan")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "评选表彰活动"
    __audit_fields__ = {
        "year": "年度", "title": "评选名称", "granting_unit": "授予单位", "stage": "阶段", "nomination_start": "推荐开始",
        "nomination_end": "推荐截止", "district_deadline": "区级推荐截止", "review_deadline": "市级评审截止",
        "notice_start": "公示开始", "notice_end": "公示结束", "presentation_date": "表彰日期", "deeds_limit": "事迹材料字数上限",
        "criteria": "评分标准", "created_by_id": "创建人",
    }

    @property
    def audit_label(self) -> str:
        return f"{self.year} 年“{self.title}”"

    @property
    def max_total(self) -> int:
        return sum(int(c["max"]) for c in self.criteria)

    def stage_at_least(self, stage: CampaignStage) -> bool:
        return STAGE_ORDER.index(self.stage) >= STAGE_ORDER.index(stage)

    @property
    def scoring_closed(self) -> bool:
        return self.stage_at_least(CampaignStage.RANKED)


class AwardKind(db.Model):
    __tablename__ = "award_kind"
    __audit__ = True
    __table_args__ = nonnegative("quota", "min_star", "min_hours", "min_years")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("award_campaign.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    nominee_type: Mapped[NomineeType] = mapped_column(str_enum(NomineeType, 16))
    quota: Mapped[int] = mapped_column(Integer, default=10)  # total number of awards
    # Eligibility rules (004: 依据志愿者服务时间和业绩; 001 第五条: no 劝退).
    min_star: Mapped[int] = mapped_column(Integer, default=0)
    min_hours: Mapped[int] = mapped_column(Integer, default=0)
    min_years: Mapped[int] = mapped_column(Integer, default=0)
    no_dismissal: Mapped[bool] = mapped_column(Boolean, default=True)
    active_org: Mapped[bool] = mapped_column(Boolean, default=True)

    campaign: Mapped[Campaign] = relationship(back_populates="kinds")
    district_quotas: Mapped[list["DistrictQuota"]] = relationship(cascade="all, delete-orphan")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "表彰奖项"
    __audit_fields__ = {
        "campaign_id": "所属评选", "position": "排序", "name": "奖项名称", "nominee_type": "推荐对象类型", "quota": "表彰名额（全市）",
        "min_star": "最低星级", "min_hours": "最低累计服务时长（小时）", "min_years": "注册/成立至少（年）", "no_dismissal": "无劝退记录",
        "active_org": "所在组织须正常运行",
    }

    @property
    def audit_label(self) -> str:
        return f"奖项“{self.name}”"

    def quota_for(self, district_id: int | None) -> int:
        for q in self.district_quotas:
            if q.district_id == district_id:
                return q.quota
        return 0

    @property
    def rules_text(self) -> str:
        parts = []
        if self.min_star:
            parts.append(f"星级 ≥ {self.min_star} 星")
        if self.min_hours:
            parts.append(f"累计服务 ≥ {self.min_hours} 小时")
        if self.min_years:
            parts.append(f"注册 ≥ {self.min_years} 年")
        if self.no_dismissal and self.nominee_type == NomineeType.VOLUNTEER:
            parts.append("无劝退记录")
        if self.active_org:
            parts.append("所在组织正常运行")
        return "；".join(parts) or "无特别条件"


class DistrictQuota(db.Model):
    """How many nominations of a kind a district may recommend to the city."""

    __tablename__ = "award_district_quota"
    __table_args__ = (UniqueConstraint("kind_id", "district_id"), *nonnegative("quota"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("award_kind.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    quota: Mapped[int] = mapped_column(Integer, default=0)

    district: Mapped[Region] = relationship()


class PanelMember(db.Model):
    __tablename__ = "award_panel_member"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("award_campaign.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="panel")
    user: Mapped[User] = relationship()


class Nomination(db.Model):
    __tablename__ = "award_nomination"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("award_campaign.id", ondelete="CASCADE"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("award_kind.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)  # nominating org
    district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"), index=True)
    nominee_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    project_title: Mapped[str] = mapped_column(String(128), default="")
    # A project nominee may name the activity that embodies it; the award then shows on that activity's page.
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"), index=True)
    nominee_name: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(200), default="")  # 简要事迹: shown on the 公示 page
    deeds: Mapped[str] = mapped_column(Text, default="")  # 事迹材料
    facts: Mapped[dict] = mapped_column(JSON, default=dict)  # frozen at submission
    status: Mapped[NominationStatus] = mapped_column(str_enum(NominationStatus, 16), default=NominationStatus.DRAFT,
                                                     index=True)
    district_order: Mapped[int | None] = mapped_column(Integer)  # 区级推荐顺序
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    rank: Mapped[int | None] = mapped_column(Integer)
    tied: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()

    campaign: Mapped[Campaign] = relationship()
    kind: Mapped[AwardKind] = relationship()
    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    nominee_org: Mapped[Organization | None] = relationship(foreign_keys=[nominee_org_id])
    activity: Mapped["Activity | None"] = relationship("Activity")
    district: Mapped[Region | None] = relationship()
    steps: Mapped[list["NominationStep"]] = relationship(order_by="NominationStep.id", cascade="all, delete-orphan")
    files: Mapped[list["NominationFile"]] = relationship(order_by="NominationFile.id", cascade="all, delete-orphan")
    sheets: Mapped[list["ScoreSheet"]] = relationship(cascade="all, delete-orphan")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "推荐对象"
    __audit_fields__ = {
        "campaign_id": "所属评选", "kind_id": "奖项", "organization_id": "推荐单位", "district_id": "所属区县",
        "volunteer_id": "推荐的志愿者", "nominee_org_id": "推荐的组织", "project_title": "项目名称", "activity_id": "对应活动",
        "nominee_name": "推荐对象", "summary": "简要事迹", "deeds": "事迹材料", "facts": "提交时的数据", "status": "状态",
        "district_order": "区级推荐顺序", "score": "评审得分", "rank": "排名", "tied": "并列", "created_by_id": "创建人",
        "submitted_at": "提交时间",
    }

    @property
    def audit_label(self) -> str:
        kind = self.kind.name if self.kind is not None else ""
        return f"推荐对象 {self.nominee_name}（{kind}）" if kind else f"推荐对象 {self.nominee_name}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.district_id, self.organization_id

    # A project nominee may be a project of the library (blueprints/projects): 最佳志愿服务项目.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_project.id", ondelete="SET NULL"), index=True)
    __audit_fields__ = {**__audit_fields__, "project_id": "项目库项目"}




class NominationStep(StepMixin, db.Model):
    __tablename__ = "award_nomination_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("award_nomination.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(String(500), default="")


class NominationFile(db.Model):
    __tablename__ = "award_nomination_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("award_nomination.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreSheet(db.Model):
    """One reviewer's points for one nomination, per criterion (list in the campaign's order)."""

    __tablename__ = "award_score_sheet"
    __table_args__ = (UniqueConstraint("nomination_id", "reviewer_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("award_nomination.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    points: Mapped[list] = mapped_column(JSON, default=list)
    total: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    reviewer: Mapped[User] = relationship()

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "评分表"
    __audit_fields__ = {
        "nomination_id": "推荐对象", "reviewer_id": "评审人", "points": "各项得分", "total": "总分",
    }

    @property
    def audit_label(self) -> str:
        n = db.session.get(Nomination, self.nomination_id)
        return f"评分表（{n.nominee_name}）" if n is not None else "评分表"

    @property
    def total_text(self) -> str:
        """78 rather than 78.00; 78.5 stays."""
        return format(Decimal(self.total).normalize(), "f")


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}[self.value]

    @property
    def tone(self) -> str:
        return {"open": "amber", "upheld": "red", "dismissed": "neutral"}[self.value]


class Objection(db.Model):
    """An objection raised on the public 公示 page; contact data is personal and shown masked."""

    __tablename__ = "award_objection"
    __audit__ = True
    __audit_mask__ = {"contact": "phone"}
    __audit_exclude__ = {"client_key"}

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("award_campaign.id", ondelete="CASCADE"), index=True)
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("award_nomination.id", ondelete="SET NULL"),
                                                      index=True)
    name: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    client_key: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash of the client address
    status: Mapped[ObjectionStatus] = mapped_column(str_enum(ObjectionStatus, 16), default=ObjectionStatus.OPEN)
    outcome: Mapped[str] = mapped_column(String(1000), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    nomination: Mapped[Nomination | None] = relationship()

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "公示异议"
    __audit_fields__ = {
        "campaign_id": "所属评选", "nomination_id": "异议对象", "name": "提出人", "contact": "联系方式", "content": "异议内容",
        "status": "状态", "outcome": "核实情况与处理结果", "resolved_by_id": "处理人", "resolved_at": "处理时间",
    }

    @property
    def audit_label(self) -> str:
        return f"公示异议（{self.nomination.nominee_name}）" if self.nomination is not None else "公示异议"


# ---- scope ---------------------------------------------------------------------------------------

def _assigned(user):
    return select(PanelMember.campaign_id).where(PanelMember.user_id == user.id)


def _campaign_scope(user):
    # Campaigns are city-wide notices: every office user sees them; a reviewer only those assigned.
    if user.role == Role.REVIEWER:
        return Campaign.id.in_(_assigned(user))
    return true()


scope.register(Campaign, custom=_campaign_scope)
# Reviewers see the nominations of their campaigns that reached the panel (never drafts).
scope.register(Nomination, region=Nomination.district_id, org=Nomination.organization_id,
               reviewer=lambda user: and_(Nomination.campaign_id.in_(_assigned(user)), Nomination.status.in_(
                   [NominationStatus.RECOMMENDED, NominationStatus.RANKED, NominationStatus.PUBLICIZED,
                    NominationStatus.NOT_SELECTED, NominationStatus.AWARDED])))
scope.register(Objection, custom=lambda user: true() if user.role == Role.CITY_ADMIN else Objection.id < 0)
