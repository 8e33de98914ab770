"""The header's global search (issue 15): volunteers by name, 志愿者编号 or the last four characters of
the ID number or phone; organizations by name or 统一社会信用代码. Every query goes through the scope
gate: a district officer finds only their district's people and organizations.

The term is personal data when it is digits of an ID number or phone, so it travels in a POST body,
never in a URL, and is never logged."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from blueprints.orgs.models import Organization
from blueprints.orgs.services import name_key
from blueprints.volunteers.models import Volunteer
from core import scope
from core.extensions import db

MAX_TERM = 32
LIMIT = 20  # results shown per kind; the count says how many matched
_LAST4 = re.compile(r"^\d{3}[\dXx]$")
_DIGITS = re.compile(r"^\d{5,16}$")  # a 志愿者编号 (district code + sequence) or its beginning
_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{6,18}$")  # GB 32100 characters; 6+ to mean a code, not a word


@dataclass
class Results:
    term: str = ""
    volunteers: list[Volunteer] = field(default_factory=list)
    volunteer_total: int = 0
    orgs: list[Organization] = field(default_factory=list)
    org_total: int = 0
    message: str = ""

    @property
    def empty(self) -> bool:
        return not (self.volunteer_total or self.org_total)


def clean_term(raw: str | None) -> str:
    return re.sub(r"\s+", "", str(raw or ""))[:MAX_TERM]


def looks_personal(term: str) -> bool:
    """Digits that may belong to an ID number or a phone: never to be put in a URL."""
    return sum(ch.isdigit() for ch in term) >= 4


def volunteer_clause(term: str):
    if _LAST4.match(term):
        return or_(Volunteer.last4_matches(term), Volunteer.phone_last4 == term, Volunteer.number == term)
    if _DIGITS.match(term):
        return Volunteer.number.startswith(term, autoescape=True)
    return Volunteer.name.contains(term, autoescape=True)


def org_clause(term: str):
    by_name = Organization.name_key.contains(name_key(term), autoescape=True)
    if _CREDIT.match(term.upper()) and any(ch.isdigit() for ch in term):
        return or_(Organization.credit_code.startswith(term.upper(), autoescape=True), by_name)
    return by_name


def _run(stmt, order) -> tuple[list, int]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(db.session.scalars(stmt.order_by(*order).limit(LIMIT))), total


def search(user, raw: str | None) -> Results:
    term = clean_term(raw)
    if not term:
        return Results(message="请输入姓名、志愿者编号、身份证号或手机号后四位、组织名称或统一社会信用代码。")
    vols, vtotal = _run(scope.scoped(select(Volunteer).where(volunteer_clause(term)), Volunteer, user),
                        (Volunteer.name_pinyin, Volunteer.id))
    orgs, ototal = _run(scope.scoped(select(Organization).where(org_clause(term)), Organization, user),
                        (Organization.name_pinyin, Organization.id))
    return Results(term, vols, vtotal, orgs, ototal)
