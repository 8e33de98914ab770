"""The attacker's test (issue 14): from the database file without PII_KEY, plus what the volunteer's page,
the list, the XLSX export and the transfer file show, no volunteer's ID number can be narrowed to fewer
than 1,000 candidates.

The attacker here knows GB 11643 (6 region digits, 8 birth-date digits, 3 sequence digits whose last
digit's parity is the sex, 1 check character), the county codes of the seeded region tree, and the
registration rules (a minor at registration has a guardian on record; nobody registers before 8). It
reads every column of every row that mentions the volunteer (raw SQL, JSON columns included), parses
every ID-shaped token, birth year/date, age and sex it finds, groups people by equal search keys, and
counts the numbers consistent with all of it. A second test runs the same attacker on what the old
scheme stored and showed (plain birth date, plain last 4, "4408**********1234", exact age) and finds
one candidate for most people: the attacker is able to fail.
"""
from __future__ import annotations

import io
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, text

from blueprints.accounts.models import Role
from blueprints.regions.seed import seed as seed_regions
from blueprints.volunteers import certificates
from blueprints.volunteers.models import Volunteer
from core import pii
from core.extensions import db
from core.timeutil import local_today
from core.validators import id_check_char
from tests import factories
from tests.jobs import export_file

MIN_CANDIDATES = 1000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
ID_TOKEN = re.compile(r"(?<![0-9X*])[0-9X*]{18}(?![0-9X*])")
TODAY = local_today()


# ---- what the attacker learns about one person --------------------------------------------------------

@dataclass
class Evidence:
    chars: dict[int, str] = field(default_factory=dict)  # position → character seen in a mask or column
    years: set[int] = field(default_factory=set)  # birth years stated somewhere
    exact: set[date] = field(default_factory=set)  # full birth dates stated somewhere
    sexes: set[str] = field(default_factory=set)
    rules: list = field(default_factory=list)  # predicates on the birth date
    last4_key: str | None = None  # an opaque search key shared with others (groups)

    def add_id_token(self, token: str) -> None:
        for i, ch in enumerate(token):
            if ch != "*":
                self.chars[i] = ch

    def scan_text(self, value: str) -> None:
        for token in ID_TOKEN.findall(value.upper()):
            self.add_id_token(token)
        for m in re.finditer(r"(\d{4}) 年生|出生于 (\d{4}) 年", value):
            self.years.add(int(m.group(1) or m.group(2)))
        for m in re.finditer(r"今年满 (\d+) 周岁", value):
            self.years.add(TODAY.year - int(m.group(1)))
        for m in re.finditer(r"/ (\d+) 岁", value):  # an exact age on today
            self.add_exact_age(int(m.group(1)))

    def add_exact_age(self, age: int) -> None:
        self.rules.append(lambda d, a=age: _age(d, TODAY) == a)

    def scan_mapping(self, mapping: dict) -> None:
        for key, value in mapping.items():
            values = value if isinstance(value, list) else [value]  # audit updates hold [old, new]
            for item in values:
                if isinstance(item, dict):
                    self.scan_mapping(item)
                    continue
                if item is None:
                    continue
                key_l = str(key).lower()
                if key_l in ("birth_year", "出生年份"):
                    self.years.add(int(item))
                elif key_l in ("birth_date", "出生日期"):
                    self.exact.add(item if isinstance(item, date) else date.fromisoformat(str(item)[:10]))
                elif key_l in ("sex", "性别"):
                    self.sexes.add(str(item))
                elif key_l == "年龄":
                    self.add_exact_age(int(item))
                elif "last4" in key_l and "phone" not in key_l and re.fullmatch(r"[0-9Xx]{4}", str(item)):
                    for i, ch in enumerate(str(item).upper(), start=14):
                        self.chars[i] = ch
                if isinstance(item, str):
                    if item.startswith(("{", "[")):
                        try:
                            parsed = json.loads(item)
                        except ValueError:
                            parsed = None
                        if isinstance(parsed, dict):
                            self.scan_mapping(parsed)
                    self.scan_text(item)

    def registration(self, registered_on: date, has_guardian: bool) -> None:
        """The registration rules (services.check_person): 8 or older; a guardian iff under 18."""
        self.rules.append(lambda d: _age(d, registered_on) >= 8 if d <= registered_on else False)
        if has_guardian:
            self.rules.append(lambda d: _age(d, registered_on) < 18)
        else:
            self.rules.append(lambda d: _age(d, registered_on) >= 18)


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))


# ---- counting the numbers consistent with the evidence ------------------------------------------------

def _weighted(digits: str, start: int) -> int:
    return sum(int(ch) * WEIGHTS[start + i] for i, ch in enumerate(digits))


def _fits(ev: Evidence, start: int, digits: str) -> bool:
    return all(ev.chars.get(start + i, ch) == ch for i, ch in enumerate(digits))


def _regions(ev: Evidence, county_codes: list[str], truth: str) -> list[str]:
    if all(i in ev.chars for i in range(6)):
        return ["".join(ev.chars[i] for i in range(6))]
    codes = [c for c in county_codes if _fits(ev, 0, c)]
    # A prefix outside the city: grant the attacker the exact code (conservative).
    return codes or [truth[:6]]


def _dates(ev: Evidence) -> list[date]:
    if ev.exact:
        pool = sorted(ev.exact)
    else:
        years = ev.years or set(range(1900, TODAY.year + 1))
        pool = [date(y, 1, 1) + timedelta(days=n) for y in sorted(years)
                for n in range((date(y + 1, 1, 1) - date(y, 1, 1)).days)]
    return [d for d in pool if d <= TODAY and (not ev.years or d.year in ev.years) and (not ev.exact or d in ev.exact)
            and _fits(ev, 6, f"{d:%Y%m%d}") and all(rule(d) for rule in ev.rules)]


def _seqs(ev: Evidence) -> list[str]:
    parities = {1 if s == "男" else 0 for s in ev.sexes} or {0, 1}
    return [f"{n:03d}" for n in range(1000) if n % 2 in parities and _fits(ev, 14, f"{n:03d}")]


@dataclass
class Space:
    residues: list[int]  # how many (region, date) pairs give each partial sum mod 11
    seqs: list[str]
    check: str | None

    def pairs(self) -> set[str]:
        """Every last-4 (sequence + check character) this person's number could end with."""
        out = set()
        for r in range(11):
            if self.residues[r]:
                for s in self.seqs:
                    c = CHECK[(r + _weighted(s, 14)) % 11]
                    if self.check in (None, c):
                        out.add(s + c)
        return out

    def count(self, allowed: set[str] | None = None) -> int:
        total = 0
        for r in range(11):
            if not self.residues[r]:
                continue
            fits = 0
            for s in self.seqs:
                c = CHECK[(r + _weighted(s, 14)) % 11]
                if self.check in (None, c) and (allowed is None or s + c in allowed):
                    fits += 1
            total += self.residues[r] * fits
        return total


def space(ev: Evidence, county_codes: list[str], truth: str) -> Space:
    region_res = [0] * 11
    for code in _regions(ev, county_codes, truth):
        region_res[_weighted(code, 0) % 11] += 1
    date_res = [0] * 11
    for d in _dates(ev):
        date_res[_weighted(f"{d:%Y%m%d}", 6) % 11] += 1
    residues = [sum(region_res[a] * date_res[(r - a) % 11] for a in range(11)) for r in range(11)]
    return Space(residues, _seqs(ev), ev.chars.get(17))


def candidate_counts(evidence: dict[int, Evidence], truths: dict[int, str], county_codes: list[str]) -> dict[int, int]:
    spaces = {vid: space(ev, county_codes, truths[vid]) for vid, ev in evidence.items()}
    groups: dict[str, list[int]] = {}
    for vid, ev in evidence.items():
        if ev.last4_key:
            groups.setdefault(ev.last4_key, []).append(vid)
    counts = {}
    for vid, sp in spaces.items():
        allowed = None
        for other in groups.get(evidence[vid].last4_key, []) if evidence[vid].last4_key else []:
            if other != vid:  # an equal key: the same last four as that person
                allowed = spaces[other].pairs() if allowed is None else allowed & spaces[other].pairs()
        counts[vid] = sp.count(allowed)
    return counts


def consistent(ev: Evidence, number: str) -> bool:
    """The true number satisfies everything the attacker found (the count includes the truth)."""
    birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return (_fits(ev, 0, number) and (not ev.years or birth.year in ev.years) and (not ev.exact or birth in ev.exact)
            and all(rule(birth) for rule in ev.rules)
            and (not ev.sexes or ev.sexes == {"男" if int(number[16]) % 2 else "女"}))


# ---- a realistic population, with the cases that leak most --------------------------------------------

def _number(area: str, birth: date, seq: int) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


@pytest.fixture
def population():
    seed_regions({})
    county_codes = [c for (c,) in db.session.execute(text("SELECT code FROM region WHERE level = 'district'"))]
    assert len(county_codes) == 9
    community = db.session.execute(text("SELECT id FROM region WHERE level = 'community' ORDER BY id")).scalar()
    from blueprints.regions.models import Region

    org = factories.org(db.session.get(Region, community), "赤坎区中华街道幸福社区志愿服务队")
    admin = factories.user(Role.CITY_ADMIN, "city_admin", db.session.get(Region, community).district)
    leader = factories.user(Role.ORG_LEADER, "org_leader", orgs=[org])
    rng = random.Random(14)
    people: list[tuple[str, dict]] = []  # (number, registration data)
    seqs = iter(rng.sample(range(1000), 1000))
    for _ in range(30):  # adults, 15% born outside the city
        reg = TODAY - timedelta(days=rng.randint(30, 8 * 365))
        birth = reg - timedelta(days=rng.randint(18 * 366, 70 * 365))
        area = rng.choice(county_codes) if rng.random() < 0.85 else rng.choice(["440105", "445302"])
        people.append((_number(area, birth, next(seqs)), {"registered_on": reg}))
    guardian = {"guardian_name": "陈大明", "guardian_phone": "13700000000", "guardian_consent": True}
    for _ in range(4):  # minors with their guardian's consent
        reg = TODAY - timedelta(days=rng.randint(30, 3 * 365))
        birth = reg - timedelta(days=rng.randint(12 * 366, 17 * 365))
        people.append((_number(rng.choice(county_codes), birth, next(seqs)), {"registered_on": reg, **guardian}))
    # The sharpest cases: the registration rule pins the birthday to one day of the birth year.
    people.append((_number("440802", date(2002, 12, 31), next(seqs)), {"registered_on": date(2020, 12, 30), **guardian}))
    people.append((_number("440883", date(2002, 1, 1), next(seqs)), {"registered_on": date(2020, 1, 1)}))
    # Two people born the same year whose numbers end alike: their search keys are equal.
    a = _number("440803", date(1985, 3, 9), 246)
    b = next(_number(code, date(1985, m, d), 246) for code in county_codes for m in range(1, 13) for d in range(1, 29)
             if _number(code, date(1985, m, d), 246)[-4:] == a[-4:] and _number(code, date(1985, m, d), 246) != a)
    people += [(a, {"registered_on": date(2019, 5, 1)}), (b, {"registered_on": date(2019, 6, 1)})]

    volunteers = []
    for i, (number, data) in enumerate(people):
        v = factories.volunteer(org, name=f"志愿者{chr(0x4e00 + i)}{chr(0x4e80 + i)}", number=number, by=admin,
                                phone=f"139{i:08d}", **data)
        volunteers.append(v)
    for v in volunteers[:3]:  # verified hours and a certificate: more rows that mention the person
        factories.service_record(v, org, TODAY - timedelta(days=2), "3", by=leader)
        certificates.issue(leader, v, org, "王主任", v.registered_on, TODAY)
    db.session.commit()
    assert volunteers[-1].id_last4_hash == volunteers[-2].id_last4_hash  # the group case is real
    return {"volunteers": volunteers, "county_codes": county_codes, "org": org, "admin": admin, "leader": leader}


# ---- what the attacker reads ----------------------------------------------------------------------------

def _tables_mentioning_volunteer() -> list[tuple[str, str]]:
    out = []
    insp = inspect(db.engine)
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            if fk["referred_table"] == "volunteer":
                out.append((table, fk["constrained_columns"][0]))
    return out


def _database_rows(vid: int, links: list[tuple[str, str]]) -> list[dict]:
    """Raw SQL: the volunteer's row, every row pointing at it, and the audit entries of all of them."""
    rows = [dict(db.session.execute(text("SELECT * FROM volunteer WHERE id = :v"), {"v": vid}).mappings().one())]
    entities = [("volunteer", vid)]
    for table, column in links:
        for row in db.session.execute(text(f'SELECT * FROM "{table}" WHERE "{column}" = :v'), {"v": vid}).mappings():
            rows.append(dict(row))
            if "id" in row:
                entities.append((table, row["id"]))
    for entity, entity_id in entities:
        rows += [dict(r) for r in db.session.execute(
            text("SELECT * FROM audit_entry WHERE entity = :e AND entity_id = :i"), {"e": entity, "i": entity_id}).mappings()]
    return rows


def _gather(app, pop) -> tuple[dict[int, Evidence], dict[int, str], dict[int, list[str]]]:
    """Evidence per volunteer, the true numbers (for checks only), and every text the attacker saw."""
    links = _tables_mentioning_volunteer()
    admin = app.test_client()
    admin.login("city_admin")
    leader = app.test_client()
    leader.login("org_leader")
    sheet = load_workbook(io.BytesIO(export_file(admin, "/volunteers/export.xlsx").data)).active
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    export = {row[header.index("志愿者编号")]: dict(zip(header, row)) for row in lines}
    evidence, truths, seen = {}, {}, {}
    for v in pop["volunteers"]:
        ev, texts = Evidence(), []
        for row in _database_rows(v.id, links):
            ev.scan_mapping({k: val for k, val in row.items() if not isinstance(val, bytes)})
            texts += [str(val) for val in row.values()]
        vol = _database_rows(v.id, [])[0]
        reg = vol["registered_on"]
        ev.registration(reg if isinstance(reg, date) else date.fromisoformat(str(reg)), bool(vol["guardian_name"]))
        if re.fullmatch(r"[0-9a-f]{64}", str(vol.get("id_last4_hash") or "")):
            ev.last4_key = vol["id_last4_hash"]
        detail = admin.get(f"/volunteers/{v.id}").get_data(as_text=True)
        listing = admin.get("/volunteers/", query_string={"q": v.name}).get_data(as_text=True)
        assert v.number in listing
        transfer = leader.post(f"/volunteers/{v.id}/transfer.json")
        assert transfer.status_code == 200
        doc = json.loads(transfer.data)
        for page in (detail, listing):
            ev.scan_text(page)
        ev.scan_mapping(export[v.number])
        ev.scan_mapping(doc["volunteer"])
        ev.scan_text(transfer.get_data(as_text=True))
        texts += [detail, listing, transfer.get_data(as_text=True), " ".join(map(str, export[v.number].values()))]
        evidence[v.id], truths[v.id], seen[v.id] = ev, pii.decrypt(v.id_number_enc), texts
    return evidence, truths, seen


def test_no_volunteer_narrows_to_fewer_than_1000_candidates(app, population):
    evidence, truths, seen = _gather(app, population)
    for vid, ev in evidence.items():
        assert consistent(ev, truths[vid]), f"the evidence excludes the truth for {vid}: the count would not be honest"
    counts = candidate_counts(evidence, truths, population["county_codes"])
    weakest = min(counts, key=counts.get)
    assert counts[weakest] >= MIN_CANDIDATES, f"volunteer {weakest} narrows to {counts[weakest]} candidates"
    # The one-day birthdays of the registration edge cases are the floor: 9 counties x 500 sequences.
    assert counts[weakest] == 9 * 500
    for vid, ev in evidence.items():
        number = truths[vid]
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        everything = "\n".join(seen[vid])
        # Whatever the format, nothing stated the full number or the full birth date.
        assert number not in everything
        for shown in (birth.isoformat(), f"{birth:%Y%m%d}", f"{birth.year}年{birth.month}月{birth.day}日"):
            assert shown not in everything, f"the birth date {shown} is shown or stored in clear"
        assert not any(i in ev.chars for i in range(6, 18)), "a mask or column shows birth, sequence or check digits"
        assert ev.years == {birth.year} and not ev.exact


def test_the_attacker_breaks_the_old_scheme(app, population):
    """The same attacker on what the old scheme kept: plain birth date and last 4, the mask
    "4408**********1234" and an exact age on the page — one candidate for most people."""
    evidence, truths = {}, {}
    for v in population["volunteers"]:
        number = pii.decrypt(v.id_number_enc)
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        ev = Evidence()
        ev.scan_mapping({"sex": v.sex, "birth_date": birth.isoformat(), "id_last4": number[-4:],
                         "id_masked": number[:4] + "*" * 10 + number[-4:]})
        ev.scan_text(f"{v.sex} / {_age(birth, TODAY)} 岁（出生于 {birth.year} 年）")
        ev.registration(v.registered_on, bool(v.guardian_name))
        assert consistent(ev, number)
        evidence[v.id], truths[v.id] = ev, number
    counts = candidate_counts(evidence, truths, population["county_codes"])
    assert all(c < MIN_CANDIDATES for c in counts.values())
    assert sorted(counts.values())[len(counts) // 2] == 1  # most people: exactly one candidate


def test_search_by_last_four_still_finds_the_person(population):
    from blueprints.volunteers import services

    staff = population["admin"]
    for v in population["volunteers"][:5] + population["volunteers"][-2:]:
        last4 = pii.decrypt(v.id_number_enc)[-4:]
        found = set(db.session.scalars(services.list_query(staff, services.ListFilters.from_args({"q": last4}))))
        assert v in found and all(pii.decrypt(o.id_number_enc).endswith(last4) for o in found)
    assert db.session.query(Volunteer).count() == len(population["volunteers"])
