"""Rules of the platform of record (seed 001: "社区应把志愿者的服务记录统一录入'i志愿'系统，实现互联互通").

- The mapping: for each dataset (志愿者信息, 服务记录) the source fields the platform knows, each with the
  target system's column name, its place and whether it is sent. The city admin edits it so that the
  file matches the target system's import template; the default resembles the national system's
  template (姓名, 证件类型, 证件号码 …).
- The export: volunteers (registered, or with verified service, in the period) and verified records of
  the period, within the runner's scope. Each row sent is marked (system, when, batch); a re-export
  leaves marked rows out unless "包含已报送" is asked.
- The import: the target system's own export, read with the same mapping, matched by 证件号码 (the keyed
  hash, volunteers.services.find_person) within the user's scope; a match stores the target's id and
  marks the person as confirmed there; a row without a match is reported and not imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy import Select, exists, or_, select

from blueprints.exchange.models import Dataset, Direction, ExchangeBatch, ExchangeMark
from blueprints.volunteers.models import RecordStatus, ServiceRecord, Volunteer
from blueprints.volunteers.services import find_person
from core import pii, scope
from core.extensions import db
from core.settings import SETTING_NAMES, get_value, set_value
from core.tabular import ImportRow
from core.timeutil import utcnow
from core.validators import ValidationError, mask_id_number, parse_id_number

MAPPING_KEY = "exchange.mapping"
SETTING_NAMES[MAPPING_KEY] = "平台对接：字段映射"
DEFAULT_SYSTEM = "i志愿"


class ExchangeError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- the source fields ---------------------------------------------------------------------------------

def _political(v: Volunteer) -> str:
    return v.political_status.label if v.political_status else ""


def _region_path(v: Volunteer) -> str:
    r, names = v.region, []
    while r is not None:
        names.append(r.name)
        r = r.parent
    return "".join(reversed(names))


@dataclass(frozen=True)
class Source:
    key: str
    label: str  # what the field is, in the platform's words (the mapping editor shows it)
    default_target: str  # the national template's column
    default_include: bool
    value: Callable  # (row, marks) -> cell value


# The person's columns, shared by both datasets (a service record names its volunteer by ID number).
_PERSON = [
    Source("name", "姓名", "姓名", True, lambda v, m: v.name),
    Source("id_type", "证件类型（固定为居民身份证）", "证件类型", True, lambda v, m: "居民身份证"),
    Source("id_number", "身份证号（完整）", "证件号码", True, lambda v, m: pii.decrypt(v.id_number_enc)),
]
VOLUNTEER_SOURCES = _PERSON + [
    Source("sex", "性别", "性别", True, lambda v, m: v.sex),
    Source("birth_date", "出生日期", "出生日期", True, lambda v, m: v.birth_date),
    Source("phone", "手机号", "手机号码", True, lambda v, m: v.phone),
    Source("political_status", "政治面貌", "政治面貌", True, lambda v, m: _political(v)),
    Source("region", "居住区域", "居住区域", True, lambda v, m: _region_path(v)),
    Source("skills", "服务技能", "专业技能", True, lambda v, m: "、".join(v.skills)),
    Source("org", "登记组织", "所属团体", True, lambda v, m: v.primary_org.name if v.primary_org else ""),
    Source("registered_on", "注册日期", "注册时间", True, lambda v, m: v.registered_on),
    Source("number", "本平台志愿者编号", "平台志愿者编号", False, lambda v, m: v.number),
    Source("external_id", "对方系统编号（回读所得）", "志愿者编码", False, lambda v, m: m.get(v.id, "")),
]
RECORD_SOURCES = [
    Source(s.key, s.label, s.default_target, s.default_include, (lambda fn: lambda r, m: fn(r.volunteer, m))(s.value))
    for s in _PERSON
] + [
    Source("service_date", "服务日期", "服务日期", True, lambda r, m: r.service_date),
    Source("hours", "服务时长（小时）", "服务时长（小时）", True, lambda r, m: r.hours),
    Source("content", "服务内容", "服务内容", True, lambda r, m: r.content),
    Source("activity", "所属活动", "活动名称", True, lambda r, m: r.activity.title if r.activity else ""),
    Source("org", "记录单位", "活动组织单位", True, lambda r, m: r.organization.name),
    Source("quality", "服务质量", "服务评价", False, lambda r, m: r.quality.label),
    Source("record_id", "本平台记录号", "平台记录号", False, lambda r, m: r.id),
]
SOURCES = {Dataset.VOLUNTEERS: VOLUNTEER_SOURCES, Dataset.RECORDS: RECORD_SOURCES}
# The columns the read-back needs, whatever the export includes.
IMPORT_KEYS = ("id_number", "external_id")


# ---- the mapping ------------------------------------------------------------------------------------------

@dataclass
class Column:
    source: str
    label: str
    target: str
    include: bool


@dataclass
class Mapping:
    system: str
    columns: dict[Dataset, list[Column]]  # in the file's order

    def included(self, dataset: Dataset) -> list[Column]:
        return [c for c in self.columns[dataset] if c.include]

    def target(self, dataset: Dataset, source: str) -> str:
        return next(c.target for c in self.columns[dataset] if c.source == source)

    def as_value(self) -> dict:
        return {"system": self.system, **{d.value: [{"source": c.source, "target": c.target, "include": c.include}
                                                    for c in cols] for d, cols in self.columns.items()}}


def default_mapping() -> Mapping:
    return Mapping(DEFAULT_SYSTEM, {d: [Column(s.key, s.label, s.default_target, s.default_include) for s in srcs]
                                    for d, srcs in SOURCES.items()})


def mapping() -> Mapping:
    """The saved mapping, repaired against the source fields this version knows (a field added later
    appears at the end with its default; a field no longer known is dropped)."""
    saved = get_value(MAPPING_KEY)
    base = default_mapping()
    if not isinstance(saved, dict):
        return base
    system = saved.get("system") if isinstance(saved.get("system"), str) and saved.get("system").strip() else DEFAULT_SYSTEM
    out = {}
    for d, srcs in SOURCES.items():
        known = {s.key: s for s in srcs}
        cols, seen = [], set()
        for entry in saved.get(d.value) or []:
            if not isinstance(entry, dict) or entry.get("source") not in known or entry["source"] in seen:
                continue
            s = known[entry["source"]]
            seen.add(s.key)
            target = entry.get("target") if isinstance(entry.get("target"), str) and entry.get("target") else s.default_target
            cols.append(Column(s.key, s.label, target, bool(entry.get("include"))))
        cols += [Column(s.key, s.label, s.default_target, s.default_include) for s in srcs if s.key not in seen]
        out[d] = cols
    return Mapping(system[:32], out)


@dataclass
class ColumnInput:
    source: str
    target: str
    position: int | None
    include: bool


def save_mapping(user, system: str, entries: dict[Dataset, list[ColumnInput]]) -> Mapping:
    """The city admin's edit: names unique and non-empty per dataset, order by position (ties keep the
    listed order). Errors are (dataset, source) → message, raised together."""
    scope.require_roles(user, "city_admin")
    system = (system or "").strip()
    errors: dict[str, str] = {}
    if not system:
        errors["system"] = "请填写对接系统名称"
    elif len(system) > 32:
        errors["system"] = "系统名称最多 32 个字"
    out = {}
    for d, rows in entries.items():
        known = {s.key: s for s in SOURCES[d]}
        names: dict[str, str] = {}
        cols = []
        for i, row in enumerate(rows):
            s = known.get(row.source)
            if s is None:
                continue
            target = (row.target or "").strip()
            key = f"{d.value}-{s.key}"
            if not target:
                errors[key] = "请填写对方系统的列名"
            elif len(target) > 40:
                errors[key] = "列名最多 40 个字"
            elif target in names:
                errors[key] = f"列名与“{names[target]}”重复"
            else:
                names[target] = s.label
            if row.position is None:
                errors.setdefault(key, "请填写列的顺序（整数）")
            cols.append((row.position if row.position is not None else 999, i, Column(s.key, s.label, target, row.include)))
        if not any(c.include for _, _, c in cols):
            errors[d.value] = "至少导出一列"
        if not any(c.source == "id_number" and c.include for _, _, c in cols):
            errors.setdefault(d.value, "须导出身份证号（对方系统按证件号码识别志愿者）")
        out[d] = [c for _, _, c in sorted(cols, key=lambda t: (t[0], t[1]))]
    if errors:
        raise MappingErrors(errors)
    m = Mapping(system, out)
    set_value(MAPPING_KEY, m.as_value(), user)
    return m


class MappingErrors(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---- the export ---------------------------------------------------------------------------------------------

@dataclass
class ExportRequest:
    dataset: Dataset
    start: date
    end: date
    include_sent: bool

    @classmethod
    def from_args(cls, args: dict) -> "ExportRequest":
        try:
            dataset = Dataset(args.get("dataset"))
            start, end = date.fromisoformat(args.get("start", "")), date.fromisoformat(args.get("end", ""))
        except (TypeError, ValueError):
            raise ExchangeError("导出条件无效，请重新选择。") from None
        if end < start:
            raise ExchangeError("结束日期不能早于开始日期", "end")
        return cls(dataset, start, end, str(args.get("include_sent", "")) in ("1", "y", "true", "on"))

    def args(self) -> dict:
        return {"dataset": self.dataset.value, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "include_sent": "1" if self.include_sent else ""}


def _marked(subject_col, mark_col, system: str):
    """WHERE: this row was already sent to the system."""
    return exists().where(mark_col == subject_col, ExchangeMark.system == system, ExchangeMark.sent_at.is_not(None))


def candidates(user, req: ExportRequest, system: str) -> tuple[Select, Select]:
    """(rows to send, rows left out because already sent) as statements, within the user's scope."""
    if req.dataset is Dataset.VOLUNTEERS:
        served = exists().where(ServiceRecord.volunteer_id == Volunteer.id, ServiceRecord.status == RecordStatus.VERIFIED,
                                ServiceRecord.service_date.between(req.start, req.end))
        base = scope.scoped(select(Volunteer).where(or_(Volunteer.registered_on.between(req.start, req.end), served)),
                            Volunteer, user).order_by(Volunteer.id)
        sent = _marked(Volunteer.id, ExchangeMark.volunteer_id, system)
    else:
        base = scope.scoped(select(ServiceRecord).where(ServiceRecord.status == RecordStatus.VERIFIED,
                                                        ServiceRecord.service_date.between(req.start, req.end)),
                            ServiceRecord, user).order_by(ServiceRecord.service_date, ServiceRecord.id)
        sent = _marked(ServiceRecord.id, ExchangeMark.record_id, system)
    skipped = base.where(sent)
    return (base if req.include_sent else base.where(~sent)), skipped


def external_ids(volunteer_ids: list[int], system: str) -> dict[int, str]:
    if not volunteer_ids:
        return {}
    return dict(db.session.execute(select(ExchangeMark.volunteer_id, ExchangeMark.external_id).where(
        ExchangeMark.system == system, ExchangeMark.volunteer_id.in_(volunteer_ids))).all())


@dataclass
class ExportResult:
    headers: list[str]
    rows: list[list]
    batch: ExchangeBatch


def run_export(user, req: ExportRequest, limit: int = 50000) -> ExportResult:
    """Build the file's rows under the mapping and mark every row sent, in one transaction (the job
    commits once the file is written: a failed file marks nothing)."""
    m = mapping()
    cols = m.included(req.dataset)
    known = {s.key: s for s in SOURCES[req.dataset]}
    stmt, skipped_stmt = candidates(user, req, m.system)
    objs = list(db.session.scalars(stmt.limit(limit)))
    skipped = 0 if req.include_sent else db.session.scalar(
        select(db.func.count()).select_from(skipped_stmt.order_by(None).subquery()))
    person_ids = [o.id if req.dataset is Dataset.VOLUNTEERS else o.volunteer_id for o in objs]
    ext = external_ids(person_ids, m.system)
    rows = [[known[c.source].value(o, ext) for c in cols] for o in objs]
    batch = ExchangeBatch(system=m.system, direction=Direction.EXPORT, dataset=req.dataset, period_start=req.start,
                          period_end=req.end, include_sent=req.include_sent, rows=len(objs), skipped=skipped or 0,
                          region_id=user.region_id, created_by_id=user.id)
    db.session.add(batch)
    db.session.flush()
    mark(m.system, req.dataset, [o.id for o in objs], batch)
    return ExportResult([c.target for c in cols], rows, batch)


def mark(system: str, dataset: Dataset, ids: list[int], batch: ExchangeBatch) -> None:
    """Mark rows sent (one mark per system and row; a re-send moves it to the new batch)."""
    col = ExchangeMark.volunteer_id if dataset is Dataset.VOLUNTEERS else ExchangeMark.record_id
    now = utcnow()
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        existing = {getattr(mk, col.key): mk for mk in db.session.scalars(
            select(ExchangeMark).where(ExchangeMark.system == system, col.in_(chunk)))}
        for oid in chunk:
            mk = existing.get(oid)
            if mk is None:
                mk = ExchangeMark(system=system, **{col.key: oid})
                db.session.add(mk)
            mk.sent_at, mk.batch_id = now, batch.id
    db.session.flush()


def is_sent(system: str, *, volunteer_id: int | None = None, record_id: int | None = None) -> bool:
    col, oid = (ExchangeMark.volunteer_id, volunteer_id) if volunteer_id else (ExchangeMark.record_id, record_id)
    return db.session.scalar(select(ExchangeMark.id).where(ExchangeMark.system == system, col == oid,
                                                           ExchangeMark.sent_at.is_not(None))) is not None


def batches_stmt(user) -> Select:
    return scope.scoped(select(ExchangeBatch), ExchangeBatch, user).order_by(ExchangeBatch.created_at.desc(),
                                                                             ExchangeBatch.id.desc())


# ---- the read-back ----------------------------------------------------------------------------------------

def import_columns(m: Mapping | None = None) -> list[str]:
    m = m or mapping()
    return [m.target(Dataset.VOLUNTEERS, k) for k in IMPORT_KEYS]


def check_import(user, rows: list[ImportRow], m: Mapping | None = None) -> list[ImportRow]:
    """Each row matched by ID number within the user's scope. A row's values are replaced by what the
    preview may show (masked number, the matched name) plus the ids the confirmation needs."""
    return list(iter_check_import(user, rows, m))


def iter_check_import(user, rows, m: Mapping | None = None):
    """check_import() one row at a time (a generator: a preview job keeps no row, issue 16)."""
    m = m or mapping()
    id_col, ext_col = import_columns(m)
    seen: dict[int, int] = {}
    for row in rows:
        raw, ext = row.values.get(id_col, ""), (row.values.get(ext_col, "") or "").strip()
        row.values = {"id_masked": (mask_id_number(raw) if len(raw) <= 18 else "*" * 18 + "…") if raw else "", "external_id": ext, "name": "",
                      "volunteer_id": None}
        if len(ext) > 64:
            row.errors.append("对方系统编号过长（最多 64 位）")
        try:
            number = parse_id_number(raw).number
        except ValidationError as e:
            row.errors.append(f"证件号码：{e.message}")
            yield row
            continue
        v = find_person(number)
        if v is None or not scope.in_scope(user, v):
            row.errors.append("未找到该证件号码的志愿者（本平台或您的管理范围内没有登记），未导入")
            yield row
            continue
        if row.errors:
            yield row
            continue
        if v.id in seen:
            row.errors.append(f"与第 {seen[v.id]} 行是同一人")
            yield row
            continue
        seen[v.id] = row.line
        row.values.update(name=v.name, volunteer_id=v.id)
        yield row


def import_batch(user, system: str) -> ExchangeBatch:
    """The batch a read-back is recorded in (flushed: it has its id)."""
    batch = ExchangeBatch(system=system, direction=Direction.IMPORT, dataset=Dataset.VOLUNTEERS, rows=0,
                          skipped=0, region_id=user.region_id, created_by_id=user.id)
    db.session.add(batch)
    db.session.flush()
    return batch


def apply_import(user, rows: list[dict], system: str, batch: ExchangeBatch | None = None) -> tuple[int, int]:
    """Store the target's id and the confirmation for each matched person (re-checked in scope).
    Returns (updated, skipped). The import job calls it a chunk at a time (core/jobs.py
    chunked_importer), every chunk adding to the batch the first one opened."""
    if batch is None:
        batch = import_batch(user, system)
    now, updated, skipped = utcnow(), 0, 0
    for row in rows:
        v = db.session.get(Volunteer, row.get("volunteer_id") or 0)
        if v is None or not scope.in_scope(user, v):
            skipped += 1
            continue
        mk = db.session.scalar(select(ExchangeMark).where(ExchangeMark.system == system, ExchangeMark.volunteer_id == v.id))
        if mk is None:
            mk = ExchangeMark(system=system, volunteer_id=v.id, sent_at=now)
            db.session.add(mk)
        if row.get("external_id"):
            mk.external_id = row["external_id"][:64]
        mk.confirmed_at, mk.batch_id = now, batch.id
        updated += 1
    batch.rows, batch.skipped = (batch.rows or 0) + updated, (batch.skipped or 0) + skipped
    db.session.flush()
    return updated, skipped
