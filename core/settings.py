"""Configurable values (policy targets, option lists) kept in the database, editable by city admins.

One generic key/value table; each feature names its keys ("stations.city_min", "orgs.kinds") and
reads them through the typed getters below, giving the policy's value as the default: a key that
was never saved simply answers its default (DOMAIN.md: "where a number is a policy target it must be
configurable, with the cited value as the default").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


# What each key is called in the operation log (keys are code names; people read these).
SETTING_NAMES = {
    "reports.deadline_day": "月报截止日", "insurance.warn_days": "保单到期提醒天数", "funding.sources": "经费来源选项",
    "orgs.kinds": "组织类型选项", "orgs.service_fields": "服务领域选项",
    "stations.city_min": "站点目标：全市最少站点数", "stations.public_min": "站点目标：公共场所站点下限",
    "stations.public_max": "站点目标：公共场所站点上限", "stations.coverage_percent": "站点目标：覆盖率",
    "stations.wuyou_percent": "站点目标：“五有”达标率", "stations.amber_percent": "站点目标：黄色提示线",
}


class Setting(db.Model):
    __tablename__ = "setting"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    # The operation log's Chinese names (core/audit.py).
    __audit_noun__ = "系统设置"
    __audit_exclude__ = {"key"}  # a code name: the label names the setting in words
    __audit_fields__ = {"value": "值", "updated_by_id": "修改人"}

    @property
    def audit_label(self) -> str:
        return f"系统设置：{SETTING_NAMES.get(self.key, '其他')}"

    @property
    def audit_owner(self) -> tuple[int | None, int | None]:
        return None, None  # city-wide configuration


def _all_saved() -> dict[str, Any]:
    """Every saved setting, read once per request (a page asks for the same keys many times)."""
    from core.cache import request_memo

    memo = request_memo()
    if "settings" not in memo:
        memo["settings"] = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    return memo["settings"]


def get_value(key: str, default: Any = None) -> Any:
    row = _all_saved().get(key)
    return default if row is None else row


def get_values(keys: list[str]) -> dict[str, Any]:
    """Several keys (only the saved ones appear)."""
    saved = _all_saved()
    return {k: saved[k] for k in keys if k in saved}


def get_int(key: str, default: int) -> int:
    value = get_value(key)
    try:
        return int(value) if value is not None and not isinstance(value, bool) else default
    except (TypeError, ValueError):
        return default


def get_decimal(key: str, default: Decimal | str | int) -> Decimal:
    value = get_value(key)
    try:
        # Stored as a string: JSON numbers would pass through float.
        return Decimal(str(value)) if value is not None else Decimal(str(default))
    except (InvalidOperation, ValueError):
        return Decimal(str(default))


def get_bool(key: str, default: bool) -> bool:
    value = get_value(key)
    return value if isinstance(value, bool) else default


def get_str(key: str, default: str = "") -> str:
    value = get_value(key)
    return value if isinstance(value, str) else default


def get_list(key: str, default: list[str]) -> list[str]:
    value = get_value(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return list(default)


def set_value(key: str, value: Any, user=None) -> Setting:
    """Save one value (Decimal is stored as its string). Flushes; the route commits."""
    if isinstance(value, Decimal):
        value = str(value)
    row = db.session.scalar(select(Setting).where(Setting.key == key))
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    from core.cache import request_memo

    request_memo().pop("settings", None)
    return row


# ---- policy numbers (issue 18): one registry, one settings page ------------------------------------
#
# Each feature registers the numbers its rules read (star thresholds, 骨干 hours, station targets …)
# with the seed's value as the default and the sentence it comes from; the settings page
# (blueprints/settings) lists them all for the city admin, and `policy(key)` is how a rule reads one.

@dataclass(frozen=True)
class Policy:
    key: str
    label: str
    default: int | tuple[int, ...]
    unit: str
    low: int  # the smallest accepted value (each item of a series)
    high: int
    source: str  # where the default comes from, as users read it (core/sources.cite)
    quote: str = ""  # the seed sentence, verbatim
    group: str = "其他"
    order: int = 0
    items: tuple[str, ...] = ()  # labels of a series' items ("一星" …); a series must strictly increase
    hint: str = ""
    decimals: int = 0  # > 0: a Decimal with at most this many decimals (stored as its string), e.g. a rate

    @property
    def kind_words(self) -> str:
        """How the bounds message names the value: "整数" or "数（最多 1 位小数）"."""
        return f"数（最多 {self.decimals} 位小数）" if self.decimals else "整数"


def _as_decimal(p: "Policy", value: Any) -> Decimal | None:
    """A decimal policy's value (stored as a string) as a Decimal with at most p.decimals places, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite() or d != d.quantize(Decimal(1).scaleb(-p.decimals)):
        return None
    return d


POLICIES: dict[str, Policy] = {}
# Checks across several numbers of a group: fn(values by key) -> {key: message}.
POLICY_CHECKS: list[Callable[[dict[str, Any]], dict[str, str]]] = []


def register_policy(p: Policy) -> Policy:
    POLICIES[p.key] = p
    SETTING_NAMES.setdefault(p.key, p.label)
    return p


def register_policy_check(fn: Callable[[dict[str, Any]], dict[str, str]]):
    if fn not in POLICY_CHECKS:
        POLICY_CHECKS.append(fn)
    return fn


def _valid(p: Policy, value: Any) -> bool:
    if p.decimals:
        d = _as_decimal(p, value)
        return d is not None and p.low <= d <= p.high
    if isinstance(p.default, tuple):
        return (isinstance(value, (list, tuple)) and len(value) == len(p.default)
                and all(isinstance(v, int) and not isinstance(v, bool) and p.low <= v <= p.high for v in value)
                and all(a < b for a, b in zip(value, value[1:])))
    return isinstance(value, int) and not isinstance(value, bool) and p.low <= value <= p.high


def policy(key: str) -> int | tuple[int, ...]:
    """A policy number as saved by the city admin, else the seed's default (a value that does not fit
    the policy's bounds, e.g. from an older version, also answers the default)."""
    p = POLICIES[key]
    value = get_value(key)
    if value is None or not _valid(p, value):
        return p.default
    if p.decimals:
        return _as_decimal(p, value)
    return tuple(value) if isinstance(p.default, tuple) else value


def policy_problems(values: dict[str, Any]) -> dict[str, str]:
    """Why these values (key → int or tuple) cannot be saved: {key or "key.i": message}."""
    problems: dict[str, str] = {}
    for key, value in values.items():
        p = POLICIES[key]
        if isinstance(p.default, tuple):
            for i, v in enumerate(value):
                name = p.items[i] if i < len(p.items) else f"第 {i + 1} 项"
                if v is None:
                    problems[f"{key}.{i}"] = f"请填写{name}"
                elif not p.low <= v <= p.high:
                    problems[f"{key}.{i}"] = f"应为 {p.low}–{p.high} 的整数"
                elif i and value[i - 1] is not None and v <= value[i - 1]:
                    problems[f"{key}.{i}"] = f"{name}应大于{p.items[i - 1] if i - 1 < len(p.items) else '上一项'}（{value[i - 1]}{p.unit}）"
        elif value is None:
            problems[key] = "请填写"
        elif p.decimals and _as_decimal(p, value) is None:
            problems[key] = f"应为{p.kind_words}"
        elif not p.low <= value <= p.high:
            problems[key] = f"应为 {p.low}–{p.high} 的{p.kind_words}"
    if not problems:
        for check in POLICY_CHECKS:
            problems.update(check(values))
    return problems


def save_policies(values: dict[str, Any], user=None) -> list[str]:
    """Save the changed numbers (each change is audited through Setting); returns the changed keys.
    Raises ValueError with the problems when a value is refused (nothing is saved then)."""
    problems = policy_problems(values)
    if problems:
        raise PolicyError(problems)
    changed = []
    for key, value in values.items():
        value = list(value) if isinstance(value, tuple) else value
        current = policy(key)
        if (list(current) if isinstance(current, tuple) else current) != value:
            set_value(key, value, user)
            changed.append(key)
    return changed


class PolicyError(ValueError):
    def __init__(self, problems: dict[str, str]):
        super().__init__("；".join(problems.values()))
        self.problems = problems
