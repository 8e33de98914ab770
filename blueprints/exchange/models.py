"""The platform of record (seed 001: "社区应把志愿者的服务记录统一录入'i志愿'系统"): each exchange run
(an export to the target system, or its export read back) is a batch; each volunteer or service record
sent is marked once per target system, with when and in which batch, so a re-export skips it unless
asked ("包含已报送"). Reading the target's export back stores the id it gave the person.

The column mapping (target header per source field, order, include) is a setting (core/settings.py,
key "exchange.mapping"): one JSON value, audited like every setting."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db, str_enum
from core.timeutil import utcnow

if TYPE_CHECKING:
    from blueprints.accounts.models import User


class Dataset(enum.StrEnum):
    VOLUNTEERS = "volunteers"
    RECORDS = "records"

    @property
    def label(self) -> str:
        return {"volunteers": "志愿者信息", "records": "服务记录"}[self.value]


class Direction(enum.StrEnum):
    EXPORT = "export"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return {"export": "导出报送", "import": "回读导入"}[self.value]


class ExchangeBatch(db.Model):
    __tablename__ = "exchange_batch"
    __table_args__ = (CheckConstraint("rows >= 0", name="rows_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(32))  # the target system's name, e.g. i志愿
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 8))
    dataset: Mapped[Dataset] = mapped_column(str_enum(Dataset, 16))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    include_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # already sent, left out (or unmatched on import)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)  # the runner's scope
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    created_by: Mapped["User | None"] = relationship()


class ExchangeMark(db.Model):
    """A volunteer or a service record that reached one target system (exactly one of the two ids)."""

    __tablename__ = "exchange_mark"
    __table_args__ = (
        CheckConstraint("(volunteer_id IS NULL) <> (record_id IS NULL)", name="one_subject"),
        UniqueConstraint("system", "volunteer_id", name="uq_exchange_mark_system_volunteer"),
        UniqueConstraint("system", "record_id", name="uq_exchange_mark_system_record"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(32))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("service_record.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_batch.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column()  # last export that carried it
    external_id: Mapped[str] = mapped_column(String(64), default="")  # the target system's own id
    confirmed_at: Mapped[datetime | None] = mapped_column()  # seen in the target system's export

    batch: Mapped[ExchangeBatch | None] = relationship()


def _register_scope() -> None:
    from core import scope

    scope.register(ExchangeBatch, region=ExchangeBatch.region_id)
    scope.register(ExchangeMark, custom=lambda user: ExchangeMark.batch_id.in_(
        select(ExchangeBatch.id).where(scope.scope_filter(ExchangeBatch, user))))


_register_scope()
