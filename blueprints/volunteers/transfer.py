"""Transfer of a volunteer's records to another installation (异地转移和接续, 001 第三条, 004 第5条).

File format "zhiyuan.volunteer-record", version 2 — UTF-8 JSON, one volunteer per file:

    {
      "format": "zhiyuan.volunteer-record",
      "version": 2,
      "exported_at": "2026-05-01T10:00:00+08:00",          # ISO 8601, local time with offset
      "source": {"system": "志愿服务管理平台", "office": "湛江市文明办",
                 "organization": "赤坎区中华街道社区志愿服务队"},  # the exporting organization
      "volunteer": {
        "name": "张三", "sex": "男", "birth_year": 1990,
        "id_number_masked": "4408**************",          # never the full number (see below)
        "volunteer_number": "440802000123", "registered_on": "2021-03-05",
        "political_status": "中共党员", "public_servant": false,
        "skills": ["扶老", "心理疏导"], "availability": "周末"
      },
      "service_records": [                                  # verified records only
        {"uid": "440802000123/s/981",                       # stable id: re-importing skips it
         "date": "2025-06-01", "hours": "2.5",              # hours as a decimal string, one decimal
         "content": "社区环境清洁", "quality": "良好",
         "recording_unit": "赤坎区中华街道社区志愿服务队",   # 记录单位
         "activity": {"title": "…", "place": "…", "category": "关爱自然"} | null,
         "recorded_at": "2025-06-02T09:00:00+08:00", "verified_at": "2025-06-03T10:00:00+08:00",
         "late_entry": false}
      ],
      "trainings": [{"uid": "…/t/5", "name": "…", "content": "…", "hours": "3.0",
                     "host_unit": "…", "date": "2025-04-01"}],
      "awards": [{"uid": "…/a/2", "name": "…", "date": "2025-12-05", "granting_unit": "…"}],
      "totals": {"verified_hours": "123.5", "service_records": 42}
    }

The file carries no full ID number: it is an export, and exports only ever hold the masked form.
Nor does it carry the full birth date: with the sex and a mask it would narrow the number down
(docs/security-pii.md); version 1 files (birth_date and the old "4408**********1234" mask) are still
read. The receiving office types the number from the volunteer's ID card; it must agree with the
masked digits, the birth year (date) and the sex in the file, and it is what the person is matched by
(one person, one record). Imported records keep their recording unit (`origin_unit`), arrive verified
(they were verified where they were kept) and count in every figure; the rule "not before registration" does
not apply to them, the 24-hour day limit does. A record whose uid is already present is skipped, and so
is a record of this installation's own export ("<number>/s/<id>" of the matched person) imported back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from blueprints.orgs.models import Organization
from blueprints.volunteers import ledger, services
from blueprints.volunteers.models import (AwardReceived, PoliticalStatus, Quality, RecordSource, RecordStatus,
                                          ServiceRecord, TrainingRecord, Volunteer)
from core import pii, tabular
from core.audit import record_change
from core.extensions import db
from core.timeutil import local_now, local_today, to_local, utcnow
from core.validators import ValidationError, mask_id_number, parse_id_number, validate_phone

FORMAT = "zhiyuan.volunteer-record"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_BYTES = 5 * 1024 * 1024
QUALITY_BY_LABEL = {q.label: q for q in Quality}


class TransferError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def _iso(value: datetime | None) -> str | None:
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else None


def export_document(user, v: Volunteer, org_name: str = "") -> dict:
    records = list(db.session.scalars(
        select(ServiceRecord).where(ServiceRecord.volunteer_id == v.id, ServiceRecord.status == RecordStatus.VERIFIED)
        .order_by(ServiceRecord.service_date, ServiceRecord.id)))
    trainings = list(db.session.scalars(select(TrainingRecord).where(TrainingRecord.volunteer_id == v.id)
                                        .order_by(TrainingRecord.held_on)))
    awards = list(db.session.scalars(select(AwardReceived).where(AwardReceived.volunteer_id == v.id)
                                     .order_by(AwardReceived.awarded_on)))
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": local_now().isoformat(timespec="seconds"),
        "source": {"system": "志愿服务管理平台", "office": current_app.config.get("OFFICE_NAME", ""),
                   "organization": org_name},
        "volunteer": {
            "name": v.name, "sex": v.sex, "birth_year": v.birth_year, "id_number_masked": v.id_masked,
            "volunteer_number": v.number, "registered_on": v.registered_on.isoformat(),
            "political_status": v.political_status.label, "public_servant": v.public_servant,
            "skills": v.skills, "availability": v.availability,
        },
        "service_records": [{
            "uid": r.external_uid or f"{v.number}/s/{r.id}", "date": r.service_date.isoformat(),
            "hours": str(ledger.quantize(r.hours)), "content": r.content, "quality": r.quality.label,
            "recording_unit": r.recording_unit,
            "activity": ({"title": r.activity.title, "place": r.activity.place, "category": r.activity.category.label}
                         if r.activity else None),
            "recorded_at": _iso(r.recorded_at), "verified_at": _iso(r.verified_at), "late_entry": r.late_entry,
        } for r in records],
        "trainings": [{"uid": t.external_uid or f"{v.number}/t/{t.id}", "name": t.name, "content": t.content,
                       "hours": str(t.hours), "host_unit": t.host_unit, "date": t.held_on.isoformat()}
                      for t in trainings],
        "awards": [{"uid": a.source_ref if a.source == "transfer" and a.source_ref else f"{v.number}/a/{a.id}",
                    "name": a.name, "date": a.awarded_on.isoformat(), "granting_unit": a.granting_unit}
                   for a in awards],
        "totals": {"verified_hours": str(ledger.quantize(sum((r.hours for r in records), Decimal(0)))),
                   "service_records": len(records)},
    }
    record_change("export", v, "导出志愿服务记录（转移接续文件）")
    return doc


def dumps(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


# ---- reading a file ---------------------------------------------------------------------------------

def read_document(upload) -> dict:
    """The uploaded transfer file, read no further than its size limit, then parsed."""
    try:
        raw = tabular.import_bytes(upload, MAX_BYTES)
    except tabular.TableError as e:
        raise TransferError(str(e), "file") from None
    return parse_document(raw)


def parse_document(raw: bytes) -> dict:
    # Size and nesting are checked before the parser runs (core/tabular.read_json): a deeply nested
    # file would otherwise exhaust the parser's recursion.
    try:
        doc = tabular.read_json(raw, MAX_BYTES)
    except tabular.TableError as e:
        raise TransferError(str(e), "file") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TransferError("文件格式不正确：不是志愿服务记录转移文件", "file")
    if doc.get("version") not in READABLE_VERSIONS:
        raise TransferError(f"不支持的文件版本 {doc.get('version')!r}（本系统支持版本 {VERSION}）", "file")
    person = doc.get("volunteer")
    if not isinstance(person, dict):
        raise TransferError("文件中缺少志愿者信息", "file")
    for key in ("name", "birth_date" if doc["version"] == 1 else "birth_year", "id_number_masked", "sex"):
        wanted = int if key == "birth_year" else str
        if type(person.get(key)) is not wanted or not person.get(key):
            raise TransferError(f"文件中的志愿者信息缺少 {key}", "file")
    for key in ("service_records", "trainings", "awards"):
        if not isinstance(doc.get(key, []), list):
            raise TransferError(f"文件中的 {key} 应为列表", "file")
    if sum(len(doc.get(key, [])) for key in ("service_records", "trainings", "awards")) > tabular.max_rows():
        raise TransferError(f"文件中的记录过多（最多 {tabular.max_rows()} 条）", "file")
    return doc


@dataclass
class Item:
    kind: str  # service | training | award
    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    skip: str = ""

    @property
    def label(self) -> str:
        return {"service": "服务记录", "training": "培训", "award": "获奖"}[self.kind]


@dataclass
class Preview:
    person: dict
    masked: str
    match: Volunteer | None
    items: list[Item]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(i.errors for i in self.items)

    @property
    def to_import(self) -> list[Item]:
        return [i for i in self.items if not i.skip and not i.errors]


def _date(value, errors: list[str], label: str) -> date | None:
    try:
        d = date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors.append(f"{label}格式不正确")
        return None
    if d > local_today():
        errors.append(f"{label}不能晚于今天")
    return d


def _text(value, errors: list[str], label: str, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(f"缺少{label}")
    if len(text) > limit:
        errors.append(f"{label}最多 {limit} 个字")
    return text


def _hours(value, errors: list[str], label: str = "时长") -> Decimal | None:
    try:
        return ledger.parse_hours(value)
    except ledger.LedgerError as e:
        errors.append(e.message.replace("时长", label))
        return None


def preview(user, doc: dict, id_number: str, org: Organization) -> Preview:
    person = doc["volunteer"]
    errors: list[str] = []
    try:
        info = parse_id_number(id_number, local_today())
    except ValidationError as e:
        raise TransferError(e.message, "id_number") from None
    masked = mask_id_number(info.number)
    if doc.get("version") == 1:  # the old mask kept the last four characters; the file the birth date
        expected = info.number[:4] + "*" * 10 + info.number[-4:]
        birth_ok = info.birth_date.isoformat() == person.get("birth_date")
    else:
        expected, birth_ok = masked, info.birth_date.year == person.get("birth_year")
    if expected != str(person["id_number_masked"]).strip().upper():
        errors.append(f"身份证号与文件中的脱敏号码（{person['id_number_masked']}）不一致")
    if not birth_ok or info.sex != person.get("sex"):
        errors.append("身份证号中的出生日期或性别与文件不一致")
    match = services.find_person(info.number)
    if match is not None and match.status.value == "dismissed" and not any(
            m.organization_id == org.id for m in match.memberships):
        errors.append("该志愿者在本系统中为劝退状态，不能加入新的组织")
    if match is None:
        try:
            data = _person_data(person, "")
        except ValueError:
            errors.append("文件中的注册日期无效")
        else:
            try:
                services.check_person(data, info.birth_date)
            except services.VolunteerError as e:
                if e.field and e.field.startswith("guardian"):
                    errors.append("该志愿者注册时未满 18 周岁，文件不含监护人信息：请先在本系统登记该志愿者"
                                  "（含监护人同意），再导入记录")
                else:
                    errors.append(e.message)
    existing_uids: set[str] = set()
    day_hours: dict[date, Decimal] = {}
    if match is not None:
        existing_uids = set(db.session.scalars(select(ServiceRecord.external_uid).where(
            ServiceRecord.volunteer_id == match.id, ServiceRecord.external_uid.is_not(None))))
        existing_uids |= set(db.session.scalars(select(TrainingRecord.external_uid).where(
            TrainingRecord.volunteer_id == match.id, TrainingRecord.external_uid.is_not(None))))
        existing_uids |= set(db.session.scalars(select(AwardReceived.source_ref).where(
            AwardReceived.volunteer_id == match.id, AwardReceived.source == "transfer")))
    # A file exported from this installation names its records "<number>/s|t|a/<id>" (see export):
    # importing it back (e.g. by another organization of the same person) must not count them twice.
    native_uids: set[str] = set()
    if match is not None and str(person.get("volunteer_number") or "") == match.number:
        n = match.number
        native_uids = {f"{n}/s/{i}" for i in db.session.scalars(select(ServiceRecord.id).where(
            ServiceRecord.volunteer_id == match.id, ServiceRecord.external_uid.is_(None)))}
        native_uids |= {f"{n}/t/{i}" for i in db.session.scalars(select(TrainingRecord.id).where(
            TrainingRecord.volunteer_id == match.id, TrainingRecord.external_uid.is_(None)))}
        native_uids |= {f"{n}/a/{i}" for i in db.session.scalars(select(AwardReceived.id).where(
            AwardReceived.volunteer_id == match.id))}
    items: list[Item] = []
    seen: set[str] = set()

    def uid_of(raw: dict, item: Item) -> str:
        uid = str(raw.get("uid") or "").strip()[:120]
        if not uid:
            item.errors.append("缺少 uid")
        elif uid in seen:
            item.errors.append("uid 在文件中重复")
        elif uid in existing_uids:
            item.skip = "已导入过，跳过"
        elif uid in native_uids:
            item.skip = "本系统已有该记录，跳过"
        seen.add(uid)
        return uid

    for n, raw in enumerate(doc.get("service_records", []), start=1):
        item = Item("service", n, {})
        if not isinstance(raw, dict):
            item.errors.append("记录格式不正确")
            items.append(item)
            continue
        e = item.errors
        item.values = {
            "uid": uid_of(raw, item), "date": _date(raw.get("date"), e, "服务日期"),
            "hours": _hours(raw.get("hours"), e), "content": _text(raw.get("content"), e, "服务内容", 500),
            "unit": _text(raw.get("recording_unit"), e, "记录单位", 128),
            "quality": QUALITY_BY_LABEL.get(str(raw.get("quality") or "良好"), Quality.GOOD),
        }
        items.append(item)
    # The 24-hour day limit, across what is already here and what the file brings.
    service = [i for i in items if i.kind == "service" and not i.errors and not i.skip]
    if match is not None and service:
        for day in {i.values["date"] for i in service}:
            day_hours[day] = ledger.day_totals([match.id], day).get(match.id, Decimal(0))
    for item in service:
        day = item.values["date"]
        day_hours[day] = day_hours.get(day, Decimal(0)) + item.values["hours"]
        if day_hours[day] > ledger.MAX_HOURS_PER_DAY:
            item.errors.append(f"{day.isoformat()} 当天合计超过 24 小时")
    for n, raw in enumerate(doc.get("trainings", []), start=1):
        item = Item("training", n, {})
        if isinstance(raw, dict):
            e = item.errors
            item.values = {"uid": uid_of(raw, item), "date": _date(raw.get("date"), e, "培训日期"),
                           "hours": _hours(raw.get("hours"), e, "学习时长"),
                           "name": _text(raw.get("name"), e, "培训名称", 128),
                           "content": _text(raw.get("content"), e, "主要内容", 500, required=False),
                           "unit": _text(raw.get("host_unit"), e, "举办单位", 128)}
        else:
            item.errors.append("培训记录格式不正确")
        items.append(item)
    for n, raw in enumerate(doc.get("awards", []), start=1):
        item = Item("award", n, {})
        if isinstance(raw, dict):
            e = item.errors
            item.values = {"uid": uid_of(raw, item), "date": _date(raw.get("date"), e, "获奖日期"),
                           "name": _text(raw.get("name"), e, "奖项名称", 128),
                           "unit": _text(raw.get("granting_unit"), e, "授予单位", 128)}
        else:
            item.errors.append("获奖记录格式不正确")
        items.append(item)
    return Preview(person=person, masked=masked, match=match, items=items, errors=errors)


def _person_data(person: dict, phone: str) -> services.VolunteerData:
    """A new local record from the file's facts (a minor's guardian is not part of the file)."""
    registered_on = date.fromisoformat(str(person.get("registered_on")))
    if registered_on > local_today():
        raise ValueError("registered_on in the future")
    political = next((p for p in PoliticalStatus if p.label == person.get("political_status")),
                     PoliticalStatus.MASSES)
    return services.VolunteerData(
        name=str(person["name"]).strip()[:64], phone=phone, political_status=political,
        public_servant=bool(person.get("public_servant")),
        skills=[s for s in person.get("skills") or [] if s in services.SKILLS],
        availability=[a for a in str(person.get("availability") or "").split("、") if a in services.AVAILABILITY],
        registered_on=registered_on,
    )


def stash_payload(doc: dict, id_number: str, org: Organization, phone: str) -> dict:
    """What waits between preview and confirmation: the ID number only encrypted."""
    return {"doc": doc, "id_enc": pii.encrypt(id_number), "org_id": org.id, "phone": phone}


def apply(user, payload: dict, org: Organization) -> tuple[Volunteer, int]:
    """Import in one transaction after a fresh check (the preview may be an hour old)."""
    doc = payload["doc"]
    id_number = pii.decrypt(payload["id_enc"])
    result = preview(user, doc, id_number, org)
    if not result.ok:
        raise TransferError("文件校验未通过：" + "；".join(result.errors + [
            f"{i.label}第 {i.line} 条：{'；'.join(i.errors)}" for i in result.items if i.errors])[:400])
    person = doc["volunteer"]
    volunteer = result.match
    if volunteer is None:
        phone = ""
        if payload.get("phone"):
            try:
                phone = validate_phone(payload["phone"])
            except ValidationError:
                phone = ""
        try:
            volunteer = services.register(user, org, id_number, _person_data(person, phone)).volunteer
        except services.VolunteerError as e:
            raise TransferError(e.message) from None
    elif not any(m.organization_id == org.id for m in volunteer.memberships):
        services.add_membership(user, volunteer, org)
    now = utcnow()
    count = 0
    for item in result.to_import:
        v = item.values
        if item.kind == "service":
            db.session.add(ServiceRecord(
                volunteer_id=volunteer.id, organization_id=org.id, service_date=v["date"], hours=v["hours"],
                content=v["content"], quality=v["quality"], status=RecordStatus.VERIFIED, source=RecordSource.TRANSFER,
                late_entry=False, recorded_by_id=user.id, recorded_at=now, verified_by_id=user.id, verified_at=now,
                origin_unit=v["unit"], external_uid=v["uid"]))
        elif item.kind == "training":
            db.session.add(TrainingRecord(volunteer_id=volunteer.id, organization_id=org.id, name=v["name"],
                                          content=v["content"], hours=v["hours"], host_unit=v["unit"],
                                          held_on=v["date"], external_uid=v["uid"], recorded_by_id=user.id))
        else:
            db.session.add(AwardReceived(volunteer_id=volunteer.id, organization_id=org.id, name=v["name"],
                                         awarded_on=v["date"], granting_unit=v["unit"], source="transfer",
                                         source_ref=v["uid"], recorded_by_id=user.id))
        count += 1
    db.session.flush()
    ledger.refresh_figures([volunteer.id])
    record_change("import", volunteer, f"转入志愿服务记录 {count} 条（来源：{doc.get('source', {}).get('office', '')}）")
    return volunteer, count
