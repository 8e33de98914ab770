"""Time helpers: the database stores naive UTC; people see Asia/Shanghai."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC now, for DateTime columns (use as a callable default)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    return local_now().date()


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ)


def cn_date(value: date | datetime | None) -> str:
    """2026年11月3日: the one way a date is written in Chinese prose (labels, the operation log)."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"
