"""Volunteers and the service-hour ledger (DOMAIN.md "Volunteers and the service ledger"; seeds 001, 004).

One person, one record city-wide (keyed by the ID number, stored encrypted with a keyed hash for
look-up); memberships tie a person to the organizations they serve in. Service records are the ledger
every figure comes from; only verified records count. Derived figures (cumulative and per-year
verified hours) are kept in `Volunteer.total_hours` and `VolunteerYearHours`, maintained by
blueprints/volunteers/ledger.py whenever a record is verified, corrected or voided.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import pii, scope
from core.collation import PinyinSorted
from core.extensions import db, hours_check, nonnegative, str_enum
from core.timeutil import utcnow
from core.validators import mask_id_number

if TYPE_CHECKING:
    from blueprints.accounts.models import User
    from blueprints.activities.models import Activity

HOURS = Numeric(6, 1)  # one record's hours
TOTAL = Numeric(8, 1)  # sums of hours


class PoliticalStatus(enum.StrEnum):
    PARTY_MEMBER = "party_member"
    PROBATIONARY = "probationary"
    LEAGUE_MEMBER = "league_member"
    DEMOCRATIC = "democratic"
    MASSES = "masses"

    @property
    def label(self) -> str:
        return POLITICAL_LABELS[self]

    @property
    def is_party(self) -> bool:
        return self in (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY)


POLITICAL_LABELS = {
    PoliticalStatus.PARTY_MEMBER: "中共党员",
    PoliticalStatus.PROBATIONARY: "中共预备党员",
    PoliticalStatus.LEAGUE_MEMBER: "共青团员",
    PoliticalStatus.DEMOCRATIC: "民主党派",
    PoliticalStatus.MASSES: "群众",
}


class VolunteerStatus(enum.StrEnum):
    ACTIVE = "active"
    # A city-wide 劝退, decided by the district office (001 附件4 第五条 "报上级志愿服务组织备案");
    # a station's own 劝退 ends one membership only (Membership.dismissed_on). The record and its hours stay.
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return {"active": "在册", "dismissed": "劝退"}[self.value]


class DismissReason(enum.StrEnum):
    """The four grounds of 001 附件4 第五条."""

    DISOBEDIENCE = "disobedience"
    VIOLATION = "violation"
    HARM = "harm"
    PROFIT = "profit"

    @property
    def label(self) -> str:
        return DISMISS_LABELS[self]


DISMISS_LABELS = {
    DismissReason.DISOBEDIENCE: "无正当理由多次不服从社区志愿服务工作安排",
    DismissReason.VIOLATION: "严重违反社区志愿服务站管理规定",
    DismissReason.HARM: "造成服务对象损失且其行为给社会、服务对象造成严重不良影响",
    DismissReason.PROFIT: "利用志愿者的名义从事营利性活动或非法活动",
}

# 服务技能 (DOMAIN.md service fields and the professional skills of 001/004).
SKILLS = [
    "扶老", "助残", "助学", "济困", "救孤", "恤病", "助医", "科普", "法律援助", "心理疏导", "应急救援",
    "环境保护", "文明劝导", "社区服务", "医疗护理", "文艺表演", "体育健身", "驾驶", "外语翻译",
    "摄影宣传", "信息技术", "家电维修",
]
# 服务时间 (when a volunteer is available).
AVAILABILITY = ["工作日白天", "工作日晚上", "周末", "节假日", "时间不限"]


class Volunteer(PinyinSorted, db.Model):
    __tablename__ = "volunteer"
    __audit__ = True
    __audit_mask__ = {"phone": "phone", "guardian_phone": "phone"}
    # The encrypted number, its hash and search keys never enter the log; the masked form does.
    __audit_exclude__ = {"id_number_enc", "id_hash", "id_last4_hash", "phone_last4", "birth_year", "total_hours", "name_pinyin",
                         "updated_at"}
    # A name search (`name LIKE '%张%'`) scans this narrow index instead of the wide table; with the id in
    # it PostgreSQL answers from the index alone (SQLite's indexes hold the rowid anyway).
    __table_args__ = (Index("ix_volunteer_name", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # 志愿者编号: region code + sequence
    name: Mapped[str] = mapped_column(String(64))
    # From the ID number. Only the sex and the birth year are kept in clear (statistics, age shown by
    # year); the full birth date is read from the encrypted number (see birth_date, docs/security-pii.md).
    sex: Mapped[str] = mapped_column(String(2))
    birth_year: Mapped[int] = mapped_column(Integer)
    id_number_enc: Mapped[str] = mapped_column(Text)  # Fernet token (core/pii.py)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)  # keyed HMAC: one person, one record
    id_last4_hash: Mapped[str] = mapped_column(String(64), index=True)  # pii.last4_key: search by last 4
    id_masked: Mapped[str] = mapped_column(String(18))  # 4408**************, for lists and exports
    phone: Mapped[str] = mapped_column(String(32), default="")
    phone_last4: Mapped[str] = mapped_column(String(4), default="", index=True)
    political_status: Mapped[PoliticalStatus] = mapped_column(
        str_enum(PoliticalStatus, 16), default=PoliticalStatus.MASSES, index=True)
    public_servant: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # 工作单位 (004 §12: a party organization follows its members' service), free text.
    work_unit: Mapped[str] = mapped_column(String(128), default="", index=True)
    availability: Mapped[str] = mapped_column(String(100), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)  # 居住区域
    primary_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    registered_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[VolunteerStatus] = mapped_column(str_enum(VolunteerStatus, 16), default=VolunteerStatus.ACTIVE,
                                                    index=True)
    dismiss_reason: Mapped[DismissReason | None] = mapped_column(str_enum(DismissReason, 16))
    dismissed_on: Mapped[date | None] = mapped_column(Date)
    dismiss_note: Mapped[str] = mapped_column(String(500), default="")
    # Under 18 (001 附件4 第二条): guardian's consent recorded.
    guardian_name: Mapped[str] = mapped_column(String(64), default="")
    guardian_phone: Mapped[str] = mapped_column(String(32), default="")
    guardian_relation: Mapped[str] = mapped_column(String(16), default="")
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Maintained by ledger.refresh_figures(): cumulative verified hours (stars are read from it).
    total_hours: Mapped[Decimal] = mapped_column(TOTAL, default=Decimal("0"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    region: Mapped[Region | None] = relationship()
    primary_org: Mapped[Organization | None] = relationship()
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="volunteer", order_by="(Membership.is_primary.desc(), Membership.id)",
        cascade="all, delete-orphan")
    skill_rows: Mapped[list["VolunteerSkill"]] = relationship(cascade="all, delete-orphan",
                                                              order_by="VolunteerSkill.skill")

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "志愿者"
    __audit_fields__ = {
        "number": "志愿者编号", "name": "姓名", "sex": "性别", "id_masked": "身份证号（脱敏）", "phone": "手机号",
        "political_status": "政治面貌", "public_servant": "公职人员", "work_unit": "工作单位", "availability": "服务时间", "region_id": "居住区域",
        "primary_org_id": "登记组织", "registered_on": "注册日期", "status": "状态", "dismiss_reason": "劝退原因",
        "dismissed_on": "劝退日期", "dismiss_note": "劝退说明", "guardian_name": "监护人姓名", "guardian_phone": "监护人电话",
        "guardian_relation": "与本人关系", "guardian_consent": "监护人已同意", "created_by_id": "登记人",
    }

    @property
    def audit_label(self) -> str:
        return f"志愿者 {self.name}（{self.number}）" if self.number else f"志愿者 {self.name}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.region_id, self.primary_org_id

    @property
    def skills(self) -> list[str]:
        return [s.skill for s in self.skill_rows]

    @property
    def is_active(self) -> bool:
        return self.status == VolunteerStatus.ACTIVE

    @property
    def birth_date(self) -> date:
        """The full birth date, decrypted from the ID number: for rules (age checks) only, never
        shown (a page shows the birth year; the full number is behind the audited "显示")."""
        number = pii.decrypt(self.id_number_enc)
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))

    def age_on(self, day: date) -> int:
        """Exact age in full years (decrypts: rules only, not for display)."""
        birth = self.birth_date
        return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))

    def age_in(self, year: int) -> int:
        """The age reached in `year` (by birth year): what pages and exports show."""
        return year - self.birth_year

    @classmethod
    def last4_matches(cls, q: str):
        """WHERE clause: the ID number ends with these four characters (indexed, no decryption)."""
        return cls.id_last4_hash.in_(pii.last4_keys(q))


def identity_columns(number: str) -> dict:
    """The columns a valid 18-character ID number fills (registration, seed, factories, migration
    0007): encrypted number, keyed hashes, display mask, and the birth year and sex in clear."""
    number = pii.normalize(number)
    year = int(number[6:10])
    return {"id_number_enc": pii.encrypt(number), "id_hash": pii.lookup_hash(number),
            "id_last4_hash": pii.last4_key(number, year), "id_masked": mask_id_number(number),
            "birth_year": year, "sex": "男" if int(number[16]) % 2 else "女"}


class VolunteerSkill(db.Model):
    __tablename__ = "volunteer_skill"

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class Membership(db.Model):
    """A person serving in an organization; exactly one membership of a person is primary."""

    __tablename__ = "volunteer_membership"
    # (organization_id, volunteer_id) covers the scope sub-select "volunteers of these organizations"
    # that every list and count of volunteers runs (core/scope.py org_via).
    __table_args__ = (UniqueConstraint("volunteer_id", "organization_id"),
                      Index("ix_volunteer_membership_org_volunteer", "organization_id", "volunteer_id"))
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_on: Mapped[date] = mapped_column(Date)
    # 本站劝退 (001 附件4 第五条): the membership ended on this day; the history is in DismissalEvent.
    dismissed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "组织成员"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "组织", "is_primary": "登记组织", "joined_on": "加入日期",
        "dismissed_on": "劝退日期",
    }

    @property
    def is_active(self) -> bool:
        return self.dismissed_on is None

    @property
    def audit_label(self) -> str:
        return f"{self.volunteer.name} 加入 {self.organization.name}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id


class VolunteerYearHours(db.Model):
    """Verified hours per volunteer and calendar year, maintained with the ledger (never typed)."""

    __tablename__ = "volunteer_year_hours"
    __table_args__ = (Index("ix_volunteer_year_hours_year_hours", "year", "hours"), *nonnegative("hours", "days"))

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[Decimal] = mapped_column(TOTAL, default=Decimal("0"))
    # Days with verified service (004 §15: "7天以上"), counted once however many records a day has.
    days: Mapped[int] = mapped_column(Integer, default=0)


class VolunteerCommunityHours(db.Model):
    """Verified hours per volunteer, community and year: service in the organizations of that community
    (001 附件4 第四条 "每年在本社区服务时长达48小时" → 志愿者骨干 of that community). Maintained with the
    ledger (ledger.refresh_figures); never typed."""

    __tablename__ = "volunteer_community_hours"
    __table_args__ = (Index("ix_volunteer_community_hours_year_hours", "year", "hours"), *nonnegative("hours"))

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[Decimal] = mapped_column(TOTAL, default=Decimal("0"))

    community: Mapped[Region] = relationship()


# ---- 劝退 and its history (001 附件4 第五条) ----------------------------------------------------------

class DismissalLevel(enum.StrEnum):
    ORGANIZATION = "organization"  # 本站劝退: ends the membership in that organization
    CITY = "city"  # decided by the district office: the person's standing in the whole city

    @property
    def label(self) -> str:
        return {"organization": "本组织劝退", "city": "全市劝退"}[self.value]


class DismissalAction(enum.StrEnum):
    DISMISS = "dismiss"
    RESTORE = "restore"

    @property
    def label(self) -> str:
        return {"dismiss": "劝退", "restore": "恢复"}[self.value]


class ReportStatus(enum.StrEnum):
    """报上级备案: a station's serious case waiting for, or decided by, the district office."""

    PENDING = "pending"
    ESCALATED = "escalated"
    FILED = "filed"

    @property
    def label(self) -> str:
        return {"pending": "待区县处理", "escalated": "已决定全市劝退", "filed": "已备案"}[self.value]

    @property
    def tone(self) -> str:
        return {"pending": "amber", "escalated": "red", "filed": "neutral"}[self.value]


class DismissalEvent(db.Model):
    """One 劝退 or 恢复, at an organization or city-wide: who, when, why. Never edited or deleted
    (reinstating adds a RESTORE event); the awards' "无劝退记录" check reads these rows."""

    __tablename__ = "dismissal_event"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)  # None: city-wide
    level: Mapped[DismissalLevel] = mapped_column(str_enum(DismissalLevel, 16))
    action: Mapped[DismissalAction] = mapped_column(str_enum(DismissalAction, 16))
    reason: Mapped[DismissReason | None] = mapped_column(str_enum(DismissReason, 16))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    # Only an organization's 劝退 reported upward carries a status (None: not reported).
    report_status: Mapped[ReportStatus | None] = mapped_column(str_enum(ReportStatus, 16), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    by_name: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    organization: Mapped[Organization | None] = relationship()

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "劝退记录"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "组织", "level": "层级", "action": "事项", "reason": "劝退原因",
        "effective_on": "日期", "note": "说明", "report_status": "报上级备案", "decided_by_id": "处理人",
        "decided_at": "处理时间", "decision_note": "处理意见", "by_id": "经办人", "by_name": "经办人姓名", "at": "记录时间",
    }

    @property
    def audit_label(self) -> str:
        v = db.session.get(Volunteer, self.volunteer_id) if self.volunteer_id else None
        return f"劝退记录（{v.name if v else ''} {self.action.label}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, self.organization_id

    @property
    def where(self) -> str:
        return self.organization.name if self.organization is not None else "全市（区县文明办决定）"


class VolunteerSequence(db.Model):
    """Last number handed out per prefix (the district's administrative code)."""

    __tablename__ = "volunteer_sequence"
    __table_args__ = nonnegative("last")

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# ---- the ledger -------------------------------------------------------------------------------------

class RecordStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    VOID = "void"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "verified": "已审核", "void": "已作废"}[self.value]

    @property
    def tone(self) -> str:
        return {"pending": "amber", "verified": "green", "void": "neutral"}[self.value]


class Quality(enum.StrEnum):
    """服务质量 (001 第三条（五）: 注明服务时长、服务内容和服务质量)."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"

    @property
    def label(self) -> str:
        return {"excellent": "优秀", "good": "良好", "fair": "合格", "poor": "待改进"}[self.value]


class RecordSource(enum.StrEnum):
    MANUAL = "manual"
    ATTENDANCE = "attendance"
    TRANSFER = "transfer"
    CHECKIN = "checkin"  # from the volunteer's QR check-in and check-out (issue 17)

    @property
    def label(self) -> str:
        return {"manual": "手工录入", "attendance": "活动考勤", "transfer": "转入接续", "checkin": "签到"}[self.value]


class ServiceRecord(db.Model):
    __tablename__ = "service_record"
    __table_args__ = (
        # One person's records newest first; the trailing organization_id and hours let a name search of the
        # ledger (the records of the matching people) check the list's scope and sum the hours in the index,
        # without reading rows.
        Index("ix_service_record_volunteer_day", "volunteer_id", "service_date", "id", "organization_id", "hours"),
        # The ledger lists newest first (service_date, id) under any filter of organization and status:
        # each index below serves one such filter in sort order, so no temporary B-tree sort is needed.
        # The trailing organization_id lets a district's or an organization's list check its scope in the
        # index itself, without reading the row, while walking newest first.
        Index("ix_service_record_day_id", "service_date", "id", "organization_id"),
        Index("ix_service_record_org_day", "organization_id", "service_date", "id"),
        Index("ix_service_record_status_day", "status", "service_date", "id", "organization_id"),
        Index("ix_service_record_org_status_day", "organization_id", "status", "service_date", "id"),
        Index("ix_service_record_late_day", "late_entry", "service_date", "id", "organization_id"),
        Index("ix_service_record_org_late_day", "organization_id", "late_entry", "service_date", "id"),
        # "已更正" (a few hundred of 2,000,000 at 10×): without it the filter read every record (1 s).
        Index("ix_service_record_corrected_day", "corrected", "service_date", "id", "organization_id"),
        UniqueConstraint("volunteer_id", "external_uid"),
        hours_check("hours"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))  # 记录单位
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"), index=True)
    service_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    content: Mapped[str] = mapped_column(String(500))
    quality: Mapped[Quality] = mapped_column(str_enum(Quality, 16), default=Quality.GOOD)
    status: Mapped[RecordStatus] = mapped_column(str_enum(RecordStatus, 16), default=RecordStatus.PENDING)
    source: Mapped[RecordSource] = mapped_column(str_enum(RecordSource, 16), default=RecordSource.MANUAL)
    # Entered more than N working days after the service (《志愿服务记录与证明出具办法》§11).
    late_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column()
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Records carried over from another installation (异地转移和接续): the original unit and id.
    origin_unit: Mapped[str] = mapped_column(String(128), default="")
    external_uid: Mapped[str | None] = mapped_column(String(120))

    volunteer: Mapped[Volunteer] = relationship()
    organization: Mapped[Organization] = relationship()
    activity: Mapped["Activity | None"] = relationship()
    recorded_by: Mapped["User | None"] = relationship(foreign_keys=[recorded_by_id])
    verified_by: Mapped["User | None"] = relationship(foreign_keys=[verified_by_id])
    corrections: Mapped[list["RecordCorrection"]] = relationship(
        back_populates="record", order_by="RecordCorrection.id", cascade="all, delete-orphan")

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "服务记录"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "记录单位", "activity_id": "活动", "service_date": "服务日期",
        "hours": "时长（小时）", "content": "服务内容", "quality": "服务质量", "status": "状态", "source": "来源",
        "late_entry": "补录", "recorded_by_id": "记录人", "recorded_at": "记录时间", "verified_by_id": "审核人",
        "verified_at": "审核时间", "corrected": "已更正", "origin_unit": "原记录单位", "external_uid": "外部记录编号",
    }

    @property
    def audit_label(self) -> str:
        from core.timeutil import cn_date

        return f"服务记录（{self.volunteer.name} {cn_date(self.service_date)} {self.hours} 小时）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id

    @property
    def recording_unit(self) -> str:
        return self.origin_unit or self.organization.name


class RecordCorrection(db.Model):
    """A correction of a verified record: what it said before, what it says now, and why."""

    __tablename__ = "service_record_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("service_record.id", ondelete="CASCADE"), index=True)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("correction_request.id", ondelete="SET NULL"))
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    corrected_by_name: Mapped[str] = mapped_column(String(64), default="")
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[ServiceRecord] = relationship(back_populates="corrections")


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"open": "待答复", "accepted": "已采纳", "rejected": "不予更正"}[self.value]

    @property
    def tone(self) -> str:
        return {"open": "amber", "accepted": "green", "rejected": "neutral"}[self.value]


class CorrectionRequest(db.Model):
    """A volunteer's request to correct their records (《办法》§13), logged and answered by the org."""

    __tablename__ = "correction_request"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("service_record.id", ondelete="SET NULL"))
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16), default="现场")
    content: Mapped[str] = mapped_column(String(1000))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, 16), default=RequestStatus.OPEN,
                                                  index=True)
    answer: Mapped[str] = mapped_column(String(1000), default="")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column()

    volunteer: Mapped[Volunteer] = relationship()
    organization: Mapped[Organization] = relationship()
    record: Mapped[ServiceRecord | None] = relationship()
    logged_by: Mapped["User | None"] = relationship(foreign_keys=[logged_by_id])
    answered_by: Mapped["User | None"] = relationship(foreign_keys=[answered_by_id])

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "更正申请"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "答复组织", "record_id": "涉及的记录", "received_on": "收到日期",
        "channel": "提出方式", "content": "更正内容", "status": "状态", "answer": "答复内容", "logged_by_id": "登记人",
        "logged_at": "登记时间", "answered_by_id": "答复人", "answered_at": "答复时间",
    }

    @property
    def audit_label(self) -> str:
        from core.timeutil import cn_date

        return f"更正申请（{self.volunteer.name} {cn_date(self.received_on)}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id


class TrainingRecord(db.Model):
    """Training (《办法》§8), kept apart from service hours: it never counts as service."""

    __tablename__ = "training_record"
    __audit__ = True
    __table_args__ = (hours_check("hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(String(500), default="")
    hours: Mapped[Decimal] = mapped_column(HOURS)
    host_unit: Mapped[str] = mapped_column(String(128))
    held_on: Mapped[date] = mapped_column(Date)
    external_uid: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "培训记录"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "记录组织", "name": "培训名称", "content": "主要内容",
        "hours": "学习时长（小时）", "host_unit": "举办单位", "held_on": "培训日期", "external_uid": "外部记录编号",
        "recorded_by_id": "记录人", "recorded_at": "记录时间",
    }

    @property
    def audit_label(self) -> str:
        v = db.session.get(Volunteer, self.volunteer_id) if self.volunteer_id else None
        return f"培训记录（{v.name}：{self.name}）" if v is not None else f"培训记录（{self.name}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, self.organization_id


class AwardReceived(db.Model):
    """Awards a volunteer received (《办法》§9); commendation (issue #11) adds rows through ledger.add_award."""

    __tablename__ = "award_received"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    awarded_on: Mapped[date] = mapped_column(Date)
    granting_unit: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | commendation | transfer
    source_ref: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "获奖记录"
    __audit_fields__ = {
        "volunteer_id": "志愿者", "organization_id": "记录组织", "name": "奖项名称", "awarded_on": "获奖日期",
        "granting_unit": "授予单位", "source": "来源", "source_ref": "来源编号", "recorded_by_id": "记录人",
        "recorded_at": "记录时间",
    }

    @property
    def audit_label(self) -> str:
        v = db.session.get(Volunteer, self.volunteer_id) if self.volunteer_id else None
        return f"获奖记录（{v.name}：{self.name}）" if v is not None else f"获奖记录（{self.name}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, self.organization_id


class Certificate(db.Model):
    """志愿服务记录证明 (《办法》§15): the facts as issued, for the PDF and the public check."""

    __tablename__ = "volunteer_certificate"
    __audit__ = True
    __table_args__ = nonnegative("total_hours", "record_count")

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # verification code for /verify/<code>
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)  # 出具单位
    person_in_charge: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total_hours: Mapped[Decimal] = mapped_column(TOTAL)
    record_count: Mapped[int] = mapped_column(Integer)
    facts: Mapped[dict] = mapped_column(JSON)  # snapshot rendered into the PDF (masked ID only)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    volunteer: Mapped[Volunteer] = relationship()
    organization: Mapped[Organization] = relationship()

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "记录证明"
    __audit_fields__ = {
        "serial": "证明编号", "code": "验证码", "volunteer_id": "志愿者", "organization_id": "出具单位",
        "person_in_charge": "出具单位负责人", "period_start": "起始日期", "period_end": "截止日期", "total_hours": "服务时长（小时）",
        "record_count": "服务记录条数", "facts": "证明内容", "issued_on": "出具日期", "issued_by_id": "出具人",
        "issued_at": "出具时间", "revoked": "已作废",
    }

    @property
    def audit_label(self) -> str:
        if self.serial and self.serial != "pending":  # the serial is assigned once the row has its id
            return f"记录证明 {self.serial}"
        return f"记录证明（{self.volunteer.name}）"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return self.organization.region_id, self.organization_id


# ---- scope (core/scope.py decides; these say how each table hangs on organizations) ----------------

def _via_volunteer(column):
    def rule(user):
        return column.in_(select(Volunteer.id).where(scope.scope_filter(Volunteer, user)))
    return rule


def _own(column):
    """A volunteer's own rows (issue 17): those of their person record."""
    return lambda user: column == user.volunteer_id


scope.register(Volunteer, org_via=(Membership.volunteer_id, Membership.organization_id), volunteer=_own(Volunteer.id))
scope.register(Membership, org=Membership.organization_id, volunteer=_own(Membership.volunteer_id))
# The 劝退 history belongs to the person: visible with the volunteer (the district queue narrows it further).
scope.register(DismissalEvent, custom=_via_volunteer(DismissalEvent.volunteer_id), volunteer=_own(DismissalEvent.volunteer_id))
scope.register(ServiceRecord, org=ServiceRecord.organization_id, volunteer=_own(ServiceRecord.volunteer_id))
scope.register(CorrectionRequest, org=CorrectionRequest.organization_id, volunteer=_own(CorrectionRequest.volunteer_id))
scope.register(Certificate, org=Certificate.organization_id, volunteer=_own(Certificate.volunteer_id))
# Training and awards belong to the person: visible with the volunteer.
scope.register(TrainingRecord, custom=_via_volunteer(TrainingRecord.volunteer_id), volunteer=_own(TrainingRecord.volunteer_id))
scope.register(AwardReceived, custom=_via_volunteer(AwardReceived.volunteer_id), volunteer=_own(AwardReceived.volunteer_id))
