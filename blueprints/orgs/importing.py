"""XLSX/CSV import of organizations: template, row-level validation, all-or-nothing save."""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.orgs.models import Organization, OrgServiceField, OrgStatus, RegistrationType
from blueprints.orgs.services import OrgError, kinds, name_key, region_labels, service_field_options
from blueprints.orgs.workflow import record_step
from blueprints.regions.models import Region
from core import scope
from core.extensions import db
from core.tabular import ImportRow
from core.timeutil import local_today
from core.validators import ValidationError, validate_credit_code, validate_phone


IMPORT_COLUMNS = ["名称", "类型", "所属区域", "登记类型", "统一社会信用代码", "联系人", "联系电话", "地址",
                  "成立日期", "服务领域", "上级组织"]
IMPORT_EXAMPLE = [
    ["赤坎区示例社区志愿服务队", "社区志愿服务队", "440802001001", "备案", "", "张三", "13800138000",
     "中华街道幸福路 1 号", "2021-03-05", "扶老、助残、社区服务", ""],
    ["湛江市示例应急救援志愿者协会", "专业志愿服务队", "赤坎区", "依法登记", "51440800MJL0000123", "李四",
     "0759-1234567", "赤坎区某路 8 号", "2019-12-05", "应急救援、救灾", ""],
]
_SPLIT_RE = re.compile(r"[、,，;；/\s]+")
REG_WORDS = {"依法登记": RegistrationType.REGISTERED, "登记": RegistrationType.REGISTERED,
             "备案": RegistrationType.FILED}


def _parse_date(text: str) -> date | None:
    text = text.strip().split(" ")[0]
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _resolve_region(text: str, regions: list[Region], labels: dict[int, str]) -> tuple[Region | None, str]:
    t = text.strip().replace("／", "/")
    if not t:
        return None, "所属区域不能为空"
    if t.isdigit():
        hit = [r for r in regions if r.code == t]
    elif "/" in t:
        want = " / ".join(p.strip() for p in t.split("/") if p.strip())
        hit = [r for r in regions if labels[r.id] == want or labels[r.id].endswith(" / " + want)]
    else:
        hit = [r for r in regions if r.name == t]
    if not hit:
        return None, f"找不到区域“{t}”（或不在您的管辖范围内）"
    if len(hit) > 1:
        return None, f"区域名称“{t}”不唯一，请填写行政区划代码或“街道/社区”"
    return hit[0], ""


def validate_import(user: User, rows: list[ImportRow]) -> list[ImportRow]:
    """Check every row (against the database and the rows above it) and attach Chinese errors;
    each valid row gets its parsed data in `row.values["_data"]`. The database is asked only about
    the names, codes and parents these rows mention (an import job's chunk costs what its rows do,
    however many organizations are on record)."""
    return list(check_rows(user, rows, only_these=True))


def _in_chunks(column, values: set, stmt):
    for part in _parts(sorted(values)):
        yield from db.session.execute(stmt.where(column.in_(part)))


def _parts(values: list, size: int = 500):
    return (values[i:i + size] for i in range(0, len(values), size))


def check_rows(user: User, rows, only_these: bool = False):
    """validate_import() one row at a time (a generator over any iterable of rows): a preview job reads,
    checks and writes the rows away one by one (issue 16); only keys of the rows above are kept.
    only_these (rows is a list): look up only what these rows mention."""
    regions = list(db.session.scalars(scope.scoped(select(Region).where(Region.active), Region, user)))
    labels = region_labels(regions)
    kind_opts, field_opts = set(kinds()), set(service_field_options())
    code_stmt = select(Organization.credit_code).where(Organization.credit_code.isnot(None))
    name_stmt = select(Organization.name_key, Organization.district_id)
    parent_stmt = scope.scoped(select(Organization.name).where(
        Organization.status.in_([OrgStatus.APPROVED, OrgStatus.SUSPENDED])), Organization, user)
    if only_these:
        codes_db = {c for (c,) in _in_chunks(Organization.credit_code, {
            r.values["统一社会信用代码"].strip().upper() for r in rows} - {""}, code_stmt)}
        names_db = {(k, d) for k, d in _in_chunks(Organization.name_key, {
            name_key(r.values["名称"].strip()) for r in rows} - {""}, name_stmt)}
        parents = {n for (n,) in _in_chunks(Organization.name, {r.values["上级组织"].strip() for r in rows} - {""},
                                            parent_stmt)}
    else:
        codes_db = set(db.session.scalars(code_stmt))
        names_db = {(k, d) for k, d in db.session.execute(name_stmt)}
        parents = set(db.session.scalars(parent_stmt))  # names only: nothing else of them is needed
    seen_codes: set[str] = set()
    seen_names: dict[tuple[str, int | None], int] = {}
    file_names: dict[str, int | None] = {}
    for row in rows:
        v = row.values
        e = row.errors
        name = v["名称"].strip()
        if not name:
            e.append("名称不能为空")
        elif len(name) > 128:
            e.append("名称最多 128 个字")
        kind = v["类型"].strip()
        if kind not in kind_opts:
            e.append(f"类型“{kind}”不在组织类型列表中" if kind else "类型不能为空")
        region, msg = _resolve_region(v["所属区域"], regions, labels)
        if msg:
            e.append(msg)
        code = v["统一社会信用代码"].strip().upper()
        reg_text = v["登记类型"].strip()
        reg = REG_WORDS.get(reg_text) if reg_text else (RegistrationType.REGISTERED if code else RegistrationType.FILED)
        if reg is None:
            e.append(f"登记类型“{reg_text}”无效（应为 依法登记 或 备案）")
        elif reg == RegistrationType.REGISTERED:
            try:
                code = validate_credit_code(code)
            except ValidationError as err:
                e.append("依法登记的组织须填写统一社会信用代码" if not code else f"统一社会信用代码无效：{err.message}")
            else:
                if code in codes_db:
                    e.append(f"统一社会信用代码 {code} 已被其他组织使用")
                elif code in seen_codes:
                    e.append(f"统一社会信用代码 {code} 在文件中重复")
        elif code:
            e.append("备案的组织不填统一社会信用代码")
        phone = v["联系电话"].strip()
        if phone:
            try:
                phone = validate_phone(phone)
            except ValidationError as err:
                e.append(err.message)
        founded = None
        if v["成立日期"].strip():
            try:
                founded = _parse_date(v["成立日期"])
            except ValueError:
                e.append("成立日期格式应为 YYYY-MM-DD")
            else:
                if founded > local_today():
                    e.append("成立日期不能晚于今天")
        flds = [x for x in _SPLIT_RE.split(v["服务领域"].strip()) if x]
        unknown = [x for x in flds if x not in field_opts]
        if unknown:
            e.append("未知的服务领域：" + "、".join(unknown))
        parent_name = v["上级组织"].strip()
        if parent_name and parent_name not in parents and parent_name not in file_names:
            e.append(f"找不到上级组织“{parent_name}”（须为已登记的组织，或在文件的前面行中）")
        if name and region is not None:
            key = (name_key(name), region.district_id)
            if key in names_db:
                e.append("本县(市、区)已有同名组织")
            elif key in seen_names:
                e.append(f"与第 {seen_names[key]} 行同名（同一县(市、区)）")
            seen_names.setdefault(key, row.line)
        if len(v["地址"]) > 200:
            e.append("地址最多 200 个字")
        if len(v["联系人"]) > 64:
            e.append("联系人最多 64 个字")
        if not e:
            if reg == RegistrationType.REGISTERED:
                seen_codes.add(code)
            file_names[name] = region.district_id
            v["_data"] = dict(name=name, kind=kind, region_id=region.id, registration_type=reg.value,
                              credit_code=code if reg == RegistrationType.REGISTERED else None,
                              contact_name=v["联系人"].strip(), contact_phone=phone, address=v["地址"].strip(),
                              founded_on=founded.isoformat() if founded else None, service_fields=flds,
                              parent=parent_name)
        yield row


def apply_import(user: User, rows: list[dict]) -> int:
    """Save validated rows as registered organizations (re-validated: the database may have
    changed since the preview). All or nothing for the rows given: the caller commits once — the
    import job calls it a chunk at a time (core/jobs.py chunked_importer), each chunk re-validated
    against the database, which holds the chunks before it (so a parent or a duplicate in an earlier
    chunk is found there)."""
    checked = validate_import(user, [ImportRow(line=r["line"], values={k: v for k, v in r["values"].items()
                                                                         if k != "_data"}) for r in rows])
    bad = next((r for r in checked if r.errors), None)
    if bad is not None:
        raise OrgError(f"第 {bad.line} 行：{'；'.join(bad.errors)}（数据在预览后发生了变化，请重新上传文件）")
    wanted = {row.values["_data"]["parent"] for row in checked} - {""}
    by_name = {}
    for part in _parts(sorted(wanted)):
        by_name.update((o.name, o) for o in db.session.scalars(scope.scoped(select(Organization).where(
            Organization.name.in_(part), Organization.status.in_([OrgStatus.APPROVED, OrgStatus.SUSPENDED])),
            Organization, user)))
    for row in checked:
        d = row.values["_data"]
        org = Organization(
            name=d["name"], kind=d["kind"], region=db.session.get(Region, d["region_id"]),
            registration_type=RegistrationType(d["registration_type"]), credit_code=d["credit_code"],
            contact_name=d["contact_name"], contact_phone=d["contact_phone"], address=d["address"],
            founded_on=date.fromisoformat(d["founded_on"]) if d["founded_on"] else None,
            description="", status=OrgStatus.APPROVED, is_demo_site=False, is_incubated=False,
            parent=by_name.get(d["parent"]) if d["parent"] else None,
        )
        org.service_field_rows = [OrgServiceField(field=f) for f in d["service_fields"]]
        db.session.add(org)
        db.session.flush()
        by_name.setdefault(org.name, org)
        record_step(org, "import", user, "从表格导入，直接登记", None)
    db.session.flush()
    return len(checked)

