"""Rules of the organization registry: options, validation, duplicates, create/edit, the public
application, the registry query, import/export, the review queue, the application throttle."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, delete, event, func, inspect, or_, select
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import Role, User, UserStatus, user_organization
from blueprints.orgs.models import ApplyAttempt, Organization, OrgServiceField, OrgStatus, RegistrationType
from blueprints.orgs.workflow import is_office, is_own_leader, record_step, transition
from blueprints.regions.models import Region, RegionLevel
from core import cache, scope, settings
from core.extensions import db, side_writes
from core.timeutil import local_today, utcnow
from core.validators import ValidationError, validate_credit_code, validate_phone
from core.validators import parse_id

# DOMAIN.md: kinds and service fields seen in the seeds (000, 002); city admins can change both lists.
DEFAULT_KINDS = ["党员志愿服务队", "专业志愿服务队", "社区志愿服务队", "高校志愿者队伍", "企业志愿服务队",
                 "机关/事业单位志愿服务队", "社会组织/民间团体", "志愿服务联合会/协会"]
DEFAULT_SERVICE_FIELDS = ["扶贫", "济困", "扶老", "救孤", "恤病", "助残", "救灾", "助医", "助学", "科普",
                          "法律援助", "心理疏导", "应急救援", "环境保护", "文明劝导", "社区服务"]
KINDS_KEY, FIELDS_KEY = "orgs.kinds", "orgs.service_fields"

REGISTRATION_FIELDS = {"name", "kind", "region_id", "parent_id", "registration_type", "credit_code", "founded_on"}
CONTACT_FIELDS = {"contact_name", "contact_phone", "address", "service_fields", "description"}
OFFICE_FIELDS = {"is_demo_site", "demo_site_year", "is_incubated", "incubated_year"}
ALL_FIELDS = REGISTRATION_FIELDS | CONTACT_FIELDS | OFFICE_FIELDS


class OrgError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


# ---- configurable option lists ----------------------------------------------------------------

def kinds() -> list[str]:
    return settings.get_list(KINDS_KEY, DEFAULT_KINDS)


def service_field_options() -> list[str]:
    return settings.get_list(FIELDS_KEY, DEFAULT_SERVICE_FIELDS)


def parse_option_lines(text: str, what: str) -> list[str]:
    items: list[str] = []
    for line in (text or "").splitlines():
        item = line.strip()
        if not item:
            continue
        if len(item) > 32:
            raise OrgError(f"{what}“{item[:12]}…”过长（最多 32 个字）")
        if item not in items:
            items.append(item)
    if not items:
        raise OrgError(f"请至少填写一个{what}")
    if len(items) > 60:
        raise OrgError(f"{what}最多 60 项")
    return items


def save_options(user: User, kinds_text: str, fields_text: str) -> None:
    kind_list = parse_option_lines(kinds_text, "组织类型")
    field_list = parse_option_lines(fields_text, "服务领域")
    settings.set_value(KINDS_KEY, kind_list, user)
    settings.set_value(FIELDS_KEY, field_list, user)


# ---- derived columns ---------------------------------------------------------------------------

def name_key(name: str | None) -> str:
    """Comparable form of a name: full-width folded, no spaces, lower case."""
    text = unicodedata.normalize("NFKC", name or "")
    return re.sub(r"\s+", "", text).lower()[:128]


@event.listens_for(Organization, "before_insert")
@event.listens_for(Organization, "before_update")
def _derived(_mapper, connection, org: Organization) -> None:
    # Kept with the row (the registry filters by district, duplicates compare name_key) however
    # the row was made: forms, imports, factories of other features.
    org.name_key = name_key(org.name)
    region = inspect(org).attrs.region.loaded_value  # never lazy-load inside a flush
    region_id = region.id if isinstance(region, Region) and region.id else org.region_id
    if region_id is not None:
        org.district_id = connection.execute(select(Region.district_id).where(Region.id == region_id)).scalar()


# ---- choices -------------------------------------------------------------------------------------

def region_labels(regions: list[Region]) -> dict[int, str]:
    names = dict(db.session.execute(select(Region.id, Region.name)).all())
    out = {}
    for r in regions:
        ids = [int(x) for x in r.path.strip("/").split("/") if x]
        parts = [names.get(i, "") for i in ids]
        if len(parts) > 1:
            parts = parts[1:]  # the city is implied
        out[r.id] = " / ".join(parts)
    return out


def region_choices(user: User | None) -> list[tuple[int, str]]:
    """Regions an organization may be placed in by this user (None: the public application)."""
    stmt = select(Region).where(Region.active).order_by(Region.path)
    if user is None:
        stmt = stmt.where(Region.level != RegionLevel.CITY)
    elif user.role == Role.ORG_LEADER:
        # Their organizations' districts (a new team is formed where they already work).
        districts = select(Region.district_id).where(Region.id.in_(
            select(Organization.region_id).where(Organization.id.in_(scope.user_org_ids(user)))))
        stmt = stmt.where(Region.district_id.in_(districts))
    else:
        stmt = scope.scoped(stmt, Region, user)
    regions = list(db.session.scalars(stmt))
    labels = region_labels(regions)
    return [(r.id, labels[r.id]) for r in regions]


def district_choices(user: User) -> list[Region]:
    stmt = scope.scoped(select(Region).where(Region.level == RegionLevel.DISTRICT), Region, user)
    if user.role == Role.ORG_LEADER:
        stmt = select(Region).where(Region.id.in_(select(Organization.district_id).where(
            Organization.id.in_(scope.user_org_ids(user)))))
    return list(db.session.scalars(stmt.order_by(Region.sort, Region.id)))


def _descendant_ids(org_id: int) -> set[int]:
    out, frontier = {org_id}, {org_id}
    while frontier:
        frontier = set(db.session.scalars(select(Organization.id).where(Organization.parent_id.in_(frontier)))) - out
        out |= frontier
    return out


def parent_choices(user: User, region_id: int | None, org: Organization | None = None) -> list[Organization]:
    """Organizations that may be the parent (总队/支队/大队, 002): registered ones in the user's
    scope, of the same district or city-wide, never the organization itself or one below it."""
    if not region_id:
        return []
    district_id = db.session.scalar(select(Region.district_id).where(Region.id == region_id))
    stmt = scope.scoped(select(Organization), Organization, user).where(
        Organization.status.in_([OrgStatus.APPROVED, OrgStatus.SUSPENDED]))
    if district_id is None:
        stmt = stmt.where(Organization.district_id.is_(None))
    else:
        stmt = stmt.where(or_(Organization.district_id == district_id, Organization.district_id.is_(None)))
    if org is not None and org.id:
        stmt = stmt.where(Organization.id.notin_(_descendant_ids(org.id)))
    return list(db.session.scalars(stmt.order_by(Organization.name_pinyin).limit(2000)))


# ---- who may change what -------------------------------------------------------------------------

def editable_fields(user: User, org: Organization | None) -> set[str]:
    """Fields this user may change on this organization (None: a new one)."""
    if org is None:
        if user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF):
            return set(ALL_FIELDS)
        if user.role == Role.ORG_LEADER:
            return REGISTRATION_FIELDS | CONTACT_FIELDS
        return set()
    if org.read_only:
        return set()
    if is_office(user, org):
        return set(ALL_FIELDS)
    if is_own_leader(user, org):
        if org.status in (OrgStatus.DRAFT, OrgStatus.RETURNED):
            return REGISTRATION_FIELDS | CONTACT_FIELDS
        if org.status in (OrgStatus.APPROVED, OrgStatus.SUSPENDED) and user.status == UserStatus.ACTIVE:
            return set(CONTACT_FIELDS)
    return set()


def can_create(user: User) -> bool:
    return user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF) or (
        user.role == Role.ORG_LEADER and user.status == UserStatus.ACTIVE)


# ---- duplicates ----------------------------------------------------------------------------------

REGISTERED_STATUSES = (OrgStatus.APPROVED, OrgStatus.SUSPENDED)


@dataclass
class Duplicate:
    org_name: str
    district: str
    status: str
    reason: str  # "name" or "credit_code"
    same_district: bool


def find_duplicates(name: str | None, credit_code: str | None, region_id: int | None = None,
                    exclude_id: int | None = None, *, registered_only: bool = False,
                    user: User | None = None) -> list[Duplicate]:
    """Existing organizations with the same (normalised) name or the same credit code. With
    `registered_only`, only registered (approved or suspended) ones; with `user`, the registered ones
    plus those in the user's scope (an application elsewhere is not a district officer's business)."""
    key = name_key(name)
    code = (credit_code or "").strip().upper()
    conds = []
    if key:
        conds.append(Organization.name_key == key)
    if code:
        conds.append(Organization.credit_code == code)
    if not conds:
        return []
    district_id = db.session.scalar(select(Region.district_id).where(Region.id == region_id)) if region_id else None
    stmt = select(Organization).options(joinedload(Organization.district)).where(or_(*conds))
    if exclude_id:
        stmt = stmt.where(Organization.id != exclude_id)
    if registered_only:
        stmt = stmt.where(Organization.status.in_(REGISTERED_STATUSES))
    elif user is not None:
        stmt = stmt.where(or_(Organization.status.in_(REGISTERED_STATUSES), scope.scope_filter(Organization, user)))
    out = []
    for o in db.session.scalars(stmt.limit(20)):
        reason = "credit_code" if code and o.credit_code == code else "name"
        out.append(Duplicate(o.name, o.district.name if o.district else "市级", o.status.label, reason,
                             district_id is not None and o.district_id == district_id))
    return out


def sees_applications(user) -> bool:
    """Only office staff are told about other applications (pending, draft, returned) and the details
    of a duplicate; anonymous visitors, applicants and org leaders learn only that a registered
    organization of that name exists (issue 14: the apply form must not reveal applications)."""
    return (getattr(user, "is_authenticated", False) and user.role in (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
            and user.status == UserStatus.ACTIVE)


def duplicates_for(user, name: str | None, credit_code: str | None, region_id: int | None = None,
                   exclude_id: int | None = None) -> list[Duplicate]:
    """The duplicates this user may be told about (see sees_applications)."""
    if sees_applications(user):
        return find_duplicates(name, credit_code, region_id, exclude_id, user=user)
    return find_duplicates(name, credit_code, region_id, exclude_id, registered_only=True)


# ---- validation ----------------------------------------------------------------------------------

def clean(data: dict) -> dict:
    """Normalise the values of a form or an import row."""
    out = dict(data)
    for k in ("name", "contact_name", "address", "description", "credit_code", "contact_phone"):
        if k in out:
            out[k] = (out[k] or "").strip()
    if out.get("credit_code"):
        out["credit_code"] = out["credit_code"].upper()
    if "registration_type" in out and out["registration_type"] and not isinstance(out["registration_type"], RegistrationType):
        try:
            out["registration_type"] = RegistrationType(out["registration_type"])
        except ValueError:
            out["registration_type"] = None
    if "parent_id" in out:
        out["parent_id"] = out["parent_id"] or None
    if "service_fields" in out:
        out["service_fields"] = [f for f in dict.fromkeys(out["service_fields"] or []) if f]
    return out


def validate(user: User | None, data: dict, org: Organization | None = None,
             fields: set[str] | None = None) -> dict[str, str]:
    """Field errors (Chinese) of organization data, checked against the database and the user's
    scope. `fields` are the ones being changed (others keep the organization's values)."""
    fields = ALL_FIELDS if fields is None else fields
    errors: dict[str, str] = {}

    def val(k):
        return data.get(k) if k in fields else getattr(org, k, None) if org is not None else data.get(k)

    if "name" in fields:
        name = data.get("name") or ""
        if not name:
            errors["name"] = "请填写组织名称"
        elif len(name) > 128:
            errors["name"] = "组织名称最多 128 个字"
    if "kind" in fields:
        allowed = kinds() + ([org.kind] if org is not None else [])
        if data.get("kind") not in allowed:
            errors["kind"] = "请选择组织类型"
    if "region_id" in fields:
        allowed_regions = {rid for rid, _ in region_choices(user)}
        if data.get("region_id") not in allowed_regions:
            errors["region_id"] = "请选择所属区域（须在您的管辖范围内）"
    reg_type = val("registration_type")
    if "registration_type" in fields and reg_type not in tuple(RegistrationType):
        errors["registration_type"] = "请选择登记类型"
    if "credit_code" in fields:
        code = data.get("credit_code") or ""
        if reg_type == RegistrationType.REGISTERED:
            try:
                code = validate_credit_code(code)
            except ValidationError as e:
                errors["credit_code"] = "依法登记的组织须填写统一社会信用代码" if not code else e.message
            else:
                data["credit_code"] = code
                taken = select(Organization.id).where(Organization.credit_code == code)
                if org is not None and org.id:
                    taken = taken.where(Organization.id != org.id)
                if db.session.scalar(taken) is not None:
                    errors["credit_code"] = "该统一社会信用代码已被其他组织使用"
        elif code:
            errors["credit_code"] = "备案的组织不填统一社会信用代码；已依法登记的请选择“依法登记”"
    if "contact_phone" in fields and data.get("contact_phone"):
        try:
            data["contact_phone"] = validate_phone(data["contact_phone"])
        except ValidationError as e:
            errors["contact_phone"] = e.message
    if "founded_on" in fields and data.get("founded_on"):
        if data["founded_on"] > local_today():
            errors["founded_on"] = "成立日期不能晚于今天"
        elif data["founded_on"].year < 1949:
            errors["founded_on"] = "成立日期不正确"
    if "service_fields" in fields:
        options = set(service_field_options()) | (set(org.service_fields) if org is not None else set())
        unknown = [f for f in data.get("service_fields") or [] if f not in options]
        if unknown:
            errors["service_fields"] = "未知的服务领域：" + "、".join(unknown)
    for flag, year in (("is_demo_site", "demo_site_year"), ("is_incubated", "incubated_year")):
        if year in fields:
            y = data.get(year)
            if data.get(flag) and not y:
                errors[year] = "请填写年度"
            elif y and not (2000 <= y <= local_today().year + 1):
                errors[year] = f"年度应在 2000–{local_today().year + 1} 之间"
    if "parent_id" in fields and data.get("parent_id") and user is not None and "region_id" not in errors:
        allowed_parents = {o.id for o in parent_choices(user, val("region_id"), org)}
        if data["parent_id"] not in allowed_parents:
            errors["parent_id"] = "上级组织须为同一县(市、区)或市级的已登记组织，且不能是本组织或其下级"
    if "name" not in errors and ("name" in fields or "region_id" in fields) and "region_id" not in errors:
        # Staff are stopped by any same-name organization of the district; others only by a registered
        # one (a clash with another application is the reviewer's call, and approval refuses it).
        staff = sees_applications(user)
        same = [d for d in find_duplicates(val("name"), None, val("region_id"), org.id if org else None,
                                           registered_only=not staff)
                if d.reason == "name" and d.same_district]
        if same:
            errors["name"] = f"本县(市、区)已有同名组织（{same[0].status}）" if staff else "本县(市、区)已有同名已登记组织"
    return errors


def _assign(org: Organization, data: dict, fields: set[str]) -> list[str]:
    """Copy the allowed fields; returns the service-field change note (not a column, so not in the
    automatic audit)."""
    for k in fields - {"service_fields"}:
        if k in data:
            setattr(org, k, data[k])
    if org.registration_type != RegistrationType.REGISTERED:
        org.credit_code = None
    if not org.is_demo_site:
        org.demo_site_year = None
    if not org.is_incubated:
        org.incubated_year = None
    if "service_fields" in fields and "service_fields" in data:
        new = list(data["service_fields"])
        old = org.service_fields
        if new != old:
            org.service_field_rows = [OrgServiceField(field=f) for f in new]
            return [f"服务领域：{'、'.join(old) or '无'} → {'、'.join(new) or '无'}"]
    return []


def _defaults(org: Organization) -> None:
    for k, v in (("contact_name", ""), ("contact_phone", ""), ("address", ""), ("description", ""),
                 ("registration_type", RegistrationType.FILED), ("is_demo_site", False), ("is_incubated", False)):
        if getattr(org, k) is None:
            setattr(org, k, v)


def create_org(user: User, data: dict, *, submit: bool = False) -> Organization:
    """A new organization as a draft (created by staff or an org leader), optionally submitted at
    once. An org leader who creates one becomes its leader."""
    data = clean(data)
    fields = editable_fields(user, None)
    errors = validate(user, data, None, fields)
    if errors:
        key = next(iter(errors))
        raise OrgError(errors[key], key)
    org = Organization(status=OrgStatus.DRAFT)
    _defaults(org)
    db.session.add(org)
    _assign(org, data, fields)
    org.region = db.session.get(Region, org.region_id)
    db.session.flush()
    record_step(org, "create", user)
    if user.role == Role.ORG_LEADER:
        db.session.execute(user_organization.insert().values(user_id=user.id, organization_id=org.id))
    db.session.flush()
    if submit:
        transition(org, "submit", user)
    db.session.flush()
    return org


def update_org(user: User, org: Organization, data: dict) -> None:
    fields = editable_fields(user, org)
    if not fields:
        raise OrgError("该组织当前不能修改")
    data = clean(data)
    errors = validate(user, data, org, fields)
    if errors:
        key = next(iter(errors))
        raise OrgError(errors[key], key)
    notes = _assign(org, data, fields)
    if "region_id" in fields:
        org.region = db.session.get(Region, org.region_id)
    db.session.flush()
    if notes:
        from core.audit import record_change

        record_change("update", org, "；".join(notes))


# ---- the public application ------------------------------------------------------------------

def apply(data: dict, account: dict) -> tuple[Organization, User]:
    """A leader of a not-yet-registered organization applies without an account: a submitted
    organization plus a pending org_leader account, activated on approval."""
    from blueprints.accounts.services import username_taken

    data = clean(data)
    fields = REGISTRATION_FIELDS - {"parent_id"} | CONTACT_FIELDS
    errors = validate(None, data, None, fields)
    if username_taken(account["username"]):
        errors["username"] = "该用户名已被使用"
    if errors:
        key = next(iter(errors))
        raise OrgError(errors[key], key)
    user = User(username=account["username"], display_name=account["display_name"], role=Role.ORG_LEADER,
                status=UserStatus.PENDING, must_change_password=False)
    user.set_password(account["password"])
    db.session.add(user)
    db.session.flush()
    db.session.info["actor"] = (user.id, user.username)  # the audit names the applicant
    org = Organization(status=OrgStatus.DRAFT)
    _defaults(org)
    _assign(org, data, fields)
    org.region = db.session.get(Region, org.region_id)
    db.session.add(org)
    db.session.flush()
    user.organizations = [org]
    record_step(org, "create", user, "通过网上申请提交")
    db.session.flush()
    transition(org, "submit", user)
    return org, user


# What the public endpoints count per client address: (setting, default limit, window, key prefix).
# Both live in the same table (ApplyAttempt) so that the limit holds across workers.
THROTTLES = {
    "apply": ("ORG_APPLY_MAX_PER_HOUR", 10, timedelta(hours=1), ""),
    "check": ("ORG_CHECK_MAX_PER_MINUTE", 60, timedelta(minutes=1), "check "),
}


def throttle_exceeded(ip: str, kind: str = "apply") -> bool:
    """Count this request and tell whether the address has gone over its limit (ORG_APPLY_MAX_PER_HOUR
    for application POSTs, ORG_CHECK_MAX_PER_MINUTE for the duplicate check)."""
    setting, default, window, prefix = THROTTLES[kind]
    limit = int(current_app.config.get(setting, default))
    now = utcnow()
    key = (prefix + (ip or "unknown"))[:64]
    with side_writes() as session:  # the duplicate check is a GET: its counter in a transaction of its own
        recent = session.scalar(select(func.count()).select_from(ApplyAttempt).where(
            ApplyAttempt.ip == key, ApplyAttempt.at > now - window))
        if recent >= limit:
            return True
        session.add(ApplyAttempt(ip=key, at=now))
        session.execute(delete(ApplyAttempt).where(ApplyAttempt.at < now - timedelta(days=1)))
        session.flush()
    return False


# ---- registry list -----------------------------------------------------------------------------

SORTS = {
    "name": (Organization.name_pinyin.asc(), Organization.id.asc()),
    "-name": (Organization.name_pinyin.desc(), Organization.id.desc()),
    "created": (Organization.created_at.asc(), Organization.id.asc()),
    "-created": (Organization.created_at.desc(), Organization.id.desc()),
    "district": (Organization.district_id.asc(), Organization.name_pinyin.asc()),
    "kind": (Organization.kind.asc(), Organization.name_pinyin.asc()),
    "status": (Organization.status.asc(), Organization.name_pinyin.asc()),
    "founded": (Organization.founded_on.desc(), Organization.id.desc()),
}
SORT_LABELS = {"name": "名称（拼音 A→Z）", "-name": "名称（拼音 Z→A）", "-created": "最新登记", "created": "最早登记",
               "district": "县(市、区)", "kind": "类型", "status": "状态", "founded": "成立日期（新→旧）"}
FLAGS = {"demo": "示范点", "incubated": "孵化", "registered": "依法登记", "filed": "备案"}


@dataclass
class RegistryFilters:
    district: int | None = None
    kind: str = ""
    status: str = ""
    service_field: str = ""
    flag: str = ""
    q: str = ""
    sort: str = "name"

    @classmethod
    def from_args(cls, args) -> "RegistryFilters":
        district = parse_id(args.get("district"))
        status = args.get("status", "")
        sort = args.get("sort", "name")
        flag = args.get("flag", "")
        return cls(district=district, kind=args.get("kind", "")[:32],
                   status=status if status in [s.value for s in OrgStatus] else "",
                   service_field=args.get("field", "")[:32], flag=flag if flag in FLAGS else "",
                   q=args.get("q", "").strip()[:64], sort=sort if sort in SORTS else "name")

    def as_args(self) -> dict:
        return {k: v for k, v in dict(district=self.district or "", kind=self.kind, status=self.status,
                                      field=self.service_field, flag=self.flag, q=self.q, sort=self.sort).items() if v}


def registry_stmt(user: User, f: RegistryFilters) -> Select:
    stmt = scope.scoped(select(Organization), Organization, user)
    if f.district:
        stmt = stmt.where(Organization.district_id == f.district)
    if f.kind:
        stmt = stmt.where(Organization.kind == f.kind)
    if f.status:
        stmt = stmt.where(Organization.status == f.status)
    if f.service_field:
        stmt = stmt.where(Organization.id.in_(select(OrgServiceField.organization_id).where(
            OrgServiceField.field == f.service_field)))
    if f.flag == "demo":
        stmt = stmt.where(Organization.is_demo_site.is_(True))
    elif f.flag == "incubated":
        stmt = stmt.where(Organization.is_incubated.is_(True))
    elif f.flag in ("registered", "filed"):
        stmt = stmt.where(Organization.registration_type == RegistrationType(
            "registered" if f.flag == "registered" else "filed"))
    if f.q:
        stmt = stmt.where(or_(Organization.name.contains(f.q, autoescape=True),
                              Organization.credit_code == f.q.upper()))
    return stmt.order_by(*SORTS[f.sort])


def district_names() -> dict[int, str]:
    return dict(db.session.execute(select(Region.id, Region.name).where(Region.level == RegionLevel.DISTRICT)).all())


def kind_filter_options(user: User) -> list[str]:
    used = db.session.scalars(scope.scoped(select(Organization.kind).distinct(), Organization, user))
    opts = kinds()
    return opts + sorted(k for k in used if k not in opts)


EXPORT_HEADERS = ["名称", "类型", "县(市、区)", "所属区域", "登记类型", "统一社会信用代码", "状态", "上级组织",
                  "联系人", "联系电话", "地址", "成立日期", "服务领域", "示范点", "孵化", "登记时间"]


def export_rows(user: User, f: RegistryFilters) -> list[list]:
    """Rows of the export; contact names and phones masked (personal data never leaves in full)."""
    from core.validators import mask_phone
    from core.timeutil import to_local

    stmt = registry_stmt(user, f).options(joinedload(Organization.region), joinedload(Organization.parent))
    districts = district_names()
    fields: dict[int, list[str]] = {}
    for oid, fld in db.session.execute(select(OrgServiceField.organization_id, OrgServiceField.field).where(
            OrgServiceField.organization_id.in_(registry_stmt(user, f).with_only_columns(Organization.id).order_by(None)))):
        fields.setdefault(oid, []).append(fld)
    rows = []
    for o in db.session.scalars(stmt.limit(50000)).unique():
        rows.append([
            o.name, o.kind, districts.get(o.district_id, "市级"), o.region.name, o.registration_type.label,
            o.credit_code or "", o.status.label, o.parent.name if o.parent else "", mask_name(o.contact_name),
            mask_phone(o.contact_phone), o.address, o.founded_on.isoformat() if o.founded_on else "",
            "、".join(sorted(fields.get(o.id, []))), f"是（{o.demo_site_year}）" if o.is_demo_site else "",
            f"是（{o.incubated_year}）" if o.is_incubated else "", to_local(o.created_at).strftime("%Y-%m-%d"),
        ])
    return rows


# ---- personal data ---------------------------------------------------------------------------------

def mask_name(name: str | None) -> str:
    """A contact person's name in lists and exports: the surname only (王**)."""
    name = (name or "").strip()
    return name[:1] + "*" * min(len(name) - 1, 3) if name else ""


def can_reveal(user: User, org: Organization) -> bool:
    """The full contact phone is for the office that supervises the organization and its own leaders."""
    return is_office(user, org) or is_own_leader(user, org)


def reveal_phone(user: User, org: Organization) -> str:
    """The full contact phone; the look is recorded in the audit log (who, when, which organization)."""
    from core.audit import record_event

    record_event("reveal", "organization", org.id, org.name, "显示联系电话", region_id=org.region_id, org_id=org.id)
    return org.contact_phone


# ---- detail ----------------------------------------------------------------------------------------

def leaders_of(org: Organization) -> list[User]:
    ids = select(user_organization.c.user_id).where(user_organization.c.organization_id == org.id)
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.username)))


def children_of(user: User, org: Organization) -> list[Organization]:
    return list(db.session.scalars(scope.scoped(
        select(Organization).where(Organization.parent_id == org.id), Organization, user)
        .options(joinedload(Organization.region)).order_by(Organization.name_key)))


# ---- review queue ----------------------------------------------------------------------------------

def queue_stmt(user: User) -> Select:
    """Submitted organizations in scope, the longest waiting first."""
    stmt = scope.scoped(select(Organization), Organization, user).where(Organization.status == OrgStatus.SUBMITTED)
    return stmt.options(joinedload(Organization.region)).order_by(Organization.submitted_at, Organization.id)


def status_counts(user: User) -> dict[OrgStatus, int]:
    rows = db.session.execute(scope.scoped(select(Organization.status, func.count()), Organization, user)
                              .group_by(Organization.status)).all()
    return {OrgStatus(s): n for s, n in rows}


def queue_by_district(user: User) -> list[tuple[str, int, int]]:
    """(district, submitted, returned) for the queue summary."""
    rows = db.session.execute(scope.scoped(
        select(Organization.district_id, Organization.status, func.count()), Organization, user)
        .where(Organization.status.in_([OrgStatus.SUBMITTED, OrgStatus.RETURNED]))
        .group_by(Organization.district_id, Organization.status)).all()
    names = district_names()
    counts: dict[int | None, list[int]] = {}
    for did, status, n in rows:
        counts.setdefault(did, [0, 0])[0 if OrgStatus(status) == OrgStatus.SUBMITTED else 1] += n
    return sorted(((names.get(d, "市级"), a, b) for d, (a, b) in counts.items()), key=lambda r: -r[1])


def applications_of(user: User) -> list[Organization]:
    return list(db.session.scalars(select(Organization).where(
        Organization.id.in_(scope.user_org_ids(user))).order_by(Organization.id)))


# ---- the organization filter of other lists ---------------------------------------------------------

ORG_SELECT_LIMIT = 300  # beyond this many organizations a <select> makes every list page heavy


@dataclass
class OrgFilter:
    """What a list's "组织" filter offers: every organization in scope as a select when there are few,
    otherwise a name search (`orgq`), keeping an organization chosen by id (e.g. a link from its page)."""

    options: list[tuple[int, str]] | None  # None: too many, use the name search
    selected_name: str | None = None


def org_filter(user: User, selected_id: int | None) -> OrgFilter:
    base = scope.scoped(select(Organization.id, Organization.name), Organization, user)
    count = cache.scalar(select(func.count()).select_from(base.subquery()))
    if count <= ORG_SELECT_LIMIT:
        return OrgFilter([(oid, name) for oid, name in cache.local_rows(base.order_by(Organization.name_pinyin))])
    name = db.session.scalar(base.with_only_columns(Organization.name).where(Organization.id == selected_id)) \
        if selected_id else None
    return OrgFilter(None, name)


def org_name_ids(text: str):
    """Ids of the organizations whose name contains `text` — a sub-select for the lists' name filter."""
    return select(Organization.id).where(Organization.name.contains(text, autoescape=True))


def clean_org_query(args) -> str:
    return (args.get("orgq") or "").strip().replace("\x00", "")[:60]
