"""No input produces a 500: every route, every role, junk parameters and junk forms.

This walks the URL map, so every feature's routes are covered as soon as they exist. The names sent
are derived from the code: every field of every form class, every name a view reads from
request.args / request.form. Three passes per role:

* every GET, bare and with junk query strings (huge numbers, ids beyond 2**63, bad dates, overlong,
  control characters, lists);
* every POST with junk bodies (the same, plus files: nested JSON, garbage xlsx);
* every form page: its own form, as rendered (valid values), with one field at a time made junk —
  so that junk meets the service and the database, not only the first validator.

It also checks that no WTForms built-in English message reaches a 4xx page.
"""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from wtforms.fields import DateField, DateTimeField, DecimalField, FileField, FloatField, IntegerField
from wtforms.fields.core import UnboundField

from tests.conftest import ROLES

ROOT = Path(__file__).resolve().parent.parent

# ---- what junk looks like ----------------------------------------------------------------------

HUGE = "9" * 40
BEYOND_64 = str(2**64 + 1)
BAD_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "99999-01-01", "1900-01-01"]
HUGE_NUMBERS = [HUGE, "-" + HUGE, BEYOND_64, str(2**63), "1e309", "NaN", "-0", "1" * 30 + ".123", "１２"]
TEXTS = [
    "长" * 3000,                                         # overlong
    "名\x01\x08\x0b\x1b\x7f\x85\u2028称",                 # control characters
    "\ufeff\u200b\u202e\u2066",                          # invisible only
    "=HYPERLINK(\"http://x\")", "'; DROP TABLE user; --", "<script>alert(1)</script>", "../../etc/passwd",
    "[]", "{}", "null", "%00%ff",
]
# Files stay small enough for Werkzeug to keep them in memory (the whole body < 500 KB).
OVERLONG = "长" * 300 + "\x01\x1b\u202e名"  # longer than any column, with control characters
NESTED_JSON = b"[" * 10_000 + b"]" * 10_000                      # far deeper than json's recursion limit
HUGE_JSON = b'{"volunteer": {"name": "' + b"x" * 20_000 + b'"}, "records": [' + b"{}," * 5_000 + b"{}]}"
GARBAGE_XLSX = b"PK\x03\x04" + b"\x00\xff" * 500   # a zip header and nothing a reader can use

# A small fixed junk form and query, used by the features' own junk tests (tests/*/test_junk.py).
JUNK_FORM = {
    "name": "x" * 5000, "username": "'; DROP TABLE user; --", "year": "二〇二六", "page": "-1",
    "id": "../../etc/passwd", "date": "2026-02-30", "amount": "1e309", "hours": "NaN", "code": "%00",
    "status": "<script>alert(1)</script>", "region_id": "abc", "q": "\x00", "token": "../../x",
}
JUNK_QUERY = "?page=abc&year=99999&q=%25%27%22&sort=drop&status=zzz&from=2026-99-99&month=13&region=x"

# WTForms' built-in English messages: none may reach a user (core.forms.FlaskForm speaks Chinese).
ENGLISH = ["Not a valid choice", "This field is required", "Field cannot be longer than", "Field must be",
           "Not a valid date value", "Not a valid integer value", "Not a valid decimal value", "Invalid input.",
           "Number must be", "Invalid Choice", "is not a valid choice", "could not coerce", "Not a valid time value",
           "Not a valid float value", "Invalid value, must be", "CSRF token missing", "The CSRF token"]


# ---- names the code reads ------------------------------------------------------------------------

_READ_RE = re.compile(r"""(?:args|form|values|files)\s*(?:\.get(?:list)?\(|\[)\s*["']([A-Za-z0-9_\-]+)["']""")


def _names_read_by_views(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        names |= set(_READ_RE.findall(path.read_text(encoding="utf-8")))
    return names


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _form_fields(module_prefix: str) -> dict[str, str]:
    """{field name: kind} over the form classes of a package (kind: date, number, money, file, text)."""
    from flask_wtf import FlaskForm

    out: dict[str, str] = {}
    for cls in _all_subclasses(FlaskForm):
        if not cls.__module__.startswith(module_prefix):
            continue
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            fc = unbound.field_class
            if issubclass(fc, (DateField, DateTimeField)):
                kind = "date"
            elif issubclass(fc, (IntegerField, DecimalField, FloatField)):
                kind = "number"
            elif issubclass(fc, FileField):
                kind = "file"
            elif "Money" in fc.__name__:
                kind = "money"
            else:
                kind = "text"
            out.setdefault(name, kind)
    return out


def _kind_by_name(name: str) -> str:
    if name in ("from", "to", "date_from", "date_to", "day") or name.endswith(("_on", "_date", "_start", "_end")):
        return "date"
    if name in ("amount", "premium", "sum_insured"):
        return "money"
    if name.endswith(("_id", "_ids", "id")) or name in ("page", "year", "month", "quarter", "org", "region",
                                                         "district", "star", "kind", "activity", "volunteer", "waited"):
        return "number"
    return "text"


COMMON_FILTERS = ("q", "page", "year", "month", "org", "org_id", "region", "region_id", "status", "from", "to",
                  "date_from", "date_to", "id", "sort", "district", "kind", "period", "level", "orgq", "next")


def _kinds_of(package: str) -> dict[str, str]:
    """{name: kind} a feature may read: its views' request.args/form names, its forms' fields, the
    shared core ones and the filters every list reads (whether or not the code names them literally)."""
    folder = ROOT.joinpath(*package.split("."))
    kinds = {name: _kind_by_name(name) for name in _names_read_by_views(folder) | _names_read_by_views(ROOT / "core")}
    kinds.update(_form_fields(package + "."))
    kinds.update(_form_fields("core."))
    for name in COMMON_FILTERS:
        kinds.setdefault(name, _kind_by_name(name))
    kinds.pop("csrf_token", None)
    return dict(sorted(kinds.items()))  # a fixed order: each name gets the same junk on every run


@pytest.fixture(scope="module")
def field_kinds(app) -> dict[str, dict[str, str]]:
    """Per blueprint: the names its routes may read (sending only those keeps each request small)."""
    return {name: _kinds_of(".".join(bp.import_name.split(".")[:2])) for name, bp in app.blueprints.items()}


def _junk(kind: str, i: int) -> str:
    if kind == "date":
        return BAD_DATES[i % len(BAD_DATES)]
    if kind in ("number", "money"):
        return HUGE_NUMBERS[i % len(HUGE_NUMBERS)]
    return TEXTS[i % len(TEXTS)]


FILES = [[(NESTED_JSON, "transfer.json"), (GARBAGE_XLSX, "名单.xlsx")],
         [(HUGE_JSON, "big.json"), (b"\xef\xbb\xbf\x00\x01,=1+1\n" * 10, "x.csv")]]


def _junk_bodies(kinds: dict[str, str]) -> list[tuple[dict, str | None]]:
    """Whole-form junk: every name at once, each of its kind, in three rounds — the first two with junk
    files in every file field (multipart), the third with every name sent twice (a list where one
    value is expected). Texts are cut to 300 characters here (longer than any column); the one-field
    pass below sends 5000 to the forms as rendered."""
    bodies = []
    text_names = [n for n, k in kinds.items() if k != "file"]
    files = [n for n, k in kinds.items() if k == "file"]
    for i in range(3):
        body: dict = {}
        for j, name in enumerate(text_names):
            kind = kinds[name]
            value = _junk(kind, i + j)
            if kind == "text":  # every text: overlong with control characters first, then the others
                value = OVERLONG if i == 0 else value[:300]
            body[name] = value
            if i == 2:
                body[name] = [body[name], HUGE]
        if i < 2:
            body.update({name: (io.BytesIO(FILES[i][j % 2][0]), FILES[i][j % 2][1]) for j, name in enumerate(files)})
        bodies.append((body, "multipart/form-data" if i < 2 else None))
    return bodies


def _junk_queries(kinds: dict[str, str]) -> list[str]:
    """Two query strings naming everything a view may read: each value of its kind, then (second)
    each name twice — an id beyond 2**64 or a 9999 date, and junk of another kind."""
    names = sorted(n for n in kinds if kinds[n] != "file")
    first = [(n, _junk(kinds[n], j)[:100]) for j, n in enumerate(names)]
    second = [(n, v) for j, n in enumerate(names)
              for v in ((BEYOND_64 if kinds[n] != "date" else "9999-12-31"), _junk(kinds[n], j + 1)[:100])]
    return [urlencode(first), urlencode(second)]


# ---- the app's URLs ---------------------------------------------------------------------------


@pytest.fixture
def rich_world(world):
    """The world plus one record of each kind, so that URLs with ids reach real rows."""
    from datetime import date

    from core.extensions import db
    from core.timeutil import local_today
    from tests import factories
    from tests.themes.builders import theme_plan

    w = dict(world)
    today = local_today()
    w["volunteer"] = factories.volunteer(w["org_a"])
    w["activity"] = factories.activity(w["org_a"])
    w["record"] = factories.service_record(w["volunteer"], w["org_a"])
    w["policy"] = factories.insurance_policy(w["org_a"], volunteers=[w["volunteer"]])
    w["entry"] = factories.ledger_entry(w["org_a"])
    w["project"] = factories.service_project(w["district_a"], w["org_a"])
    w["audit"] = factories.fund_audit(w["org_a"], date(today.year, 1, 1), today)
    w["station"] = factories.station(w["community_a"], organization=w["org_a"])
    w["assessment"] = factories.station_assessment(w["station"])
    w["report"] = factories.monthly_report(w["org_leader"], w["org_a"], today.year, today.month)
    w["campaign"] = factories.award_campaign()
    w["nomination"] = factories.award_nomination(w["campaign"], w["org_a"], volunteer_=w["volunteer"])
    w["plan"] = theme_plan(w["city"], today.year)
    # Issues 17 and 18: one row of each new kind, so that their routes reach real rows too.
    from blueprints.activities import services as activities
    from blueprints.funding.services import holder_from_org
    from blueprints.portal import services_join
    from blueprints.rewards import services as rewards

    course = factories.training_course(w["district_a"])
    session = factories.training_session(course, w["org_a"])
    vproject = factories.volunteer_project(w["org_a"])
    item = rewards.create_item(w["city_admin"], holder_from_org(w["org_a"]), rewards.ItemData(
        title="免费理发一次", kind="service", description="", cost="10", min_star=0, core_only=False))
    application = services_join.submit(services_join.JoinData(
        name="林小雨", id_number=factories.id_number(), phone="13912345678", organization_id=w["org_a"].id,
        password="Join2026ok"))
    participant = activities.sign_up(w["org_leader"], w["activity"], [w["volunteer"].id])[0]
    db.session.commit()
    w["ids"] = {
        "region_id": w["town_a"].id, "parent_id": w["district_a"].id, "district_id": w["district_a"].id,
        "user_id": w["org_leader"].id, "org_id": w["org_a"].id, "vid": w["volunteer"].id,
        "activity_id": w["activity"].id, "rid": w["record"].id, "policy_id": w["policy"].id,
        "entry_id": w["entry"].id, "project_id": w["project"].id, "audit_id": w["audit"].id,
        "station_id": w["station"].id, "assessment_id": w["assessment"].id, "report_id": w["report"].id,
        "campaign_id": w["campaign"].id, "nomination_id": w["nomination"].id, "kind_id": w["nomination"].kind_id,
        "plan_id": w["plan"].id, "row_id": w["plan"].rows[0].id, "year": today.year, "month": today.month,
        "mid": w["volunteer"].memberships[0].id, "record_id": w["record"].id, "volunteer_id": w["volunteer"].id,
        "pid": participant.id,
        # "<blueprint>.<argument>" where a blueprint's argument names another kind of row than elsewhere
        "training.course_id": course.id, "training.session_id": session.id, "projects.project_id": vproject.id,
        "rewards.item_id": item.id, "portal.app_id": application.id,
    }
    return w


def _urls(app, ids: dict):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, _build(app, rule, ids)


def _build(app, rule, ids: dict) -> str:
    """The rule's URL with real ids where the world has them (a blueprint's own name first), the first
    choice of an `any(…)` part, and "x" for any other string."""
    values = {}
    blueprint = rule.endpoint.split(".")[0]
    for arg in rule.arguments:
        converter = rule._converters[arg]
        conv = converter.__class__.__name__
        if "Int" in conv:
            values[arg] = ids.get(f"{blueprint}.{arg}", ids.get(arg, 1))
        elif conv == "AnyConverter":
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_the_walk_builds_every_route(app):
    """No route drops out of the walk silently (a URL that cannot be built would be skipped)."""
    built = [url for _, url in _urls(app, {})]
    assert len(built) == sum(1 for r in app.url_map.iter_rules() if r.endpoint != "static")


SKIP_POST = {"accounts.logout"}


def _check(resp, what: str, failures: list[str], english: list[str]) -> None:
    if resp.status_code >= 500:
        failures.append(f"{what} → {resp.status_code}")
    elif 400 <= resp.status_code < 500 and resp.mimetype == "text/html":
        body = resp.get_data(as_text=True)
        found = [e for e in ENGLISH if e in body]
        if found:
            english.append(f"{what} → {resp.status_code}: {found}")
    resp.close()  # a streamed file (a job's download) is closed, not left to the garbage collector


@pytest.mark.parametrize("role", [*ROLES, None])
def test_no_route_answers_500_to_junk(app, rich_world, as_role, client, field_kinds, role):
    c = as_role(role) if role else client
    failures: list[str] = []
    english: list[str] = []
    rules = list(_urls(app, rich_world["ids"]))
    queries = {bp: _junk_queries(kinds) for bp, kinds in field_kinds.items()}
    # Reads first (they change nothing), then the writes.
    for rule, url in rules:
        kinds = field_kinds[rule.endpoint.split(".")[0]]
        if "GET" in rule.methods:
            # A PDF is slow to render: it gets the second query only (ids beyond 2**64, 9999 dates).
            bp_queries = queries[rule.endpoint.split(".")[0]]
            for q in bp_queries[1:] if url.endswith(".pdf") else bp_queries:
                _check(c.get(f"{url}?{q}"), f"GET {url}?…", failures, english)
    for rule, url in rules:
        if "POST" not in rule.methods or rule.endpoint in SKIP_POST:
            continue
        for i, (body, content_type) in enumerate(_junk_bodies(field_kinds[rule.endpoint.split(".")[0]])):
            kw = {"content_type": content_type} if content_type else {}
            _check(c.post(url, data=body, **kw), f"POST {url} (body {i})", failures, english)
        _check(c.post(url, data=NESTED_JSON, content_type="application/json"), f"POST {url} (JSON body)",
               failures, english)
    assert not failures, "\n".join(failures)
    assert not english, "English WTForms messages:\n" + "\n".join(english)


# ---- one field at a time, on the forms as rendered ------------------------------------------------


class _FormReader(HTMLParser):
    """The POST forms of a page: action, and the values a browser would submit as they are."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "types": {}, "multipart":
                          "multipart" in (a.get("enctype") or "")}
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            self._form["types"].setdefault(name, kind)
            if kind in ("checkbox", "radio"):
                if "checked" in a or name not in self._form["fields"]:
                    self._form["fields"][name] = a.get("value", "y")
            elif kind not in ("submit", "button", "file"):
                self._form["fields"][name] = a.get("value", "")
        elif tag == "select":
            self._select = name
            self._form["types"][name] = "select"
        elif tag == "textarea":
            self._textarea = name
            self._form["types"][name] = "textarea"
            self._form["fields"][name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data


class _OptionReader(HTMLParser):
    """Select values: the selected option, else the first non-empty one."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._chosen: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if "selected" in a:
                self.values[self._select] = value
                self._chosen.add(self._select)
            elif self._select not in self._chosen and value and not self.values.get(self._select):
                self.values[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _plausible(name: str, kind: str) -> str:
    """A value a careful user would type into an empty field, so that one junk field at a time meets
    the service, not the "required" check of its neighbours."""
    from core.timeutil import local_today
    from tests import factories

    today = local_today()
    if kind == "date" or name.endswith(("_on", "_date", "_start", "_end")):
        return today.isoformat()
    if "id_number" in name:
        return factories.id_number()
    if "phone" in name:
        return "13800138000"
    if "email" in name:
        return "office@example.gov.cn"
    if "credit_code" in name:
        return factories.credit_code()
    if name in ("amount", "premium", "sum_insured"):
        return "100"
    if name == "hours":
        return "2"
    if name == "year":
        return str(today.year)
    if kind == "number":
        return "1"
    if kind == "password" or name in ("password", "new", "confirm", "current"):
        return factories.PASSWORD
    if name == "username":
        return "junk_user"
    return "测试内容"


FILE_MUTATIONS = [(NESTED_JSON, "transfer.json"), (GARBAGE_XLSX, "名单.xlsx"), (HUGE_JSON, "big.json")]


def _mutations(name: str, kind: str) -> list[str]:
    if kind == "date" or name.endswith(("_on", "_date", "_start", "_end")):
        return ["0001-01-01", "9999-12-31"]
    if kind == "number" or name.endswith("_id") or name in ("amount", "premium", "sum_insured", "hours", "year"):
        return [HUGE, "1" * 30 + ".123"]
    if kind in ("checkbox", "radio", "select", "hidden"):
        return [HUGE]
    return ["长" * 5000 + "\x01\x1b\u202e", "\ufeff\u200b"]


@pytest.mark.parametrize("role", ["city_admin", "org_leader"])
def test_forms_as_rendered_with_one_junk_field_never_answer_500(app, rich_world, as_role, role):
    c = as_role(role)
    failures: list[str] = []
    english: list[str] = []
    tried: set[str] = set()
    for rule, url in _urls(app, rich_world["ids"]):
        if not {"GET", "POST"} <= rule.methods or rule.endpoint in SKIP_POST:
            continue
        page = c.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        html = page.get_data(as_text=True)
        reader = _FormReader()
        reader.feed(html)
        options = _OptionReader()
        options.feed(html)
        for form in reader.forms:
            action = urlsplit(form["action"]).path or url
            if action != urlsplit(url).path:
                continue
            base = {k: v for k, v in form["fields"].items() if k != "csrf_token"}
            base.update({k: v for k, v in options.values.items() if k in form["types"]})
            for name, kind in form["types"].items():
                if not base.get(name) and kind in ("text", "textarea", "date", "number", "tel", "email", "password"):
                    base[name] = _plausible(name, kind)
            for name, kind in form["types"].items():
                if name == "csrf_token" or kind in ("submit", "button", "password"):
                    continue
                if kind == "file":
                    for payload, filename in FILE_MUTATIONS:
                        tried.add(url)
                        resp = c.post(url, data={**base, name: (io.BytesIO(payload), filename)},
                                      content_type="multipart/form-data")
                        _check(resp, f"POST {url} {name}={filename}", failures, english)
                    continue
                for value in _mutations(name, kind):
                    tried.add(url)
                    resp = c.post(url, data={**base, name: value})
                    _check(resp, f"POST {url} {name}={value[:20]!r}", failures, english)
    assert len(tried) >= 15, f"only {len(tried)} forms found: is the form reader broken?"
    assert not failures, "\n".join(failures)
    assert not english, "English WTForms messages:\n" + "\n".join(english)


# ---- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["city_admin", "org_leader"])
def test_read_only_requests_never_write_in_the_transaction_of_their_reads(app, rich_world, as_role, role):
    """A GET that must record something (an export's audit row) does it in its own short transaction
    (core.audit.record_read): on SQLite a reader that starts writing fails at once with "database is
    locked" when another write committed meanwhile, whatever the busy timeout."""
    from flask import g, has_request_context, request
    from sqlalchemy import event

    from core.extensions import db

    writes: list[str] = []

    def spy(conn, _cursor, statement, _params, _context, _many):
        if (has_request_context() and request.method in ("GET", "HEAD")
                and not conn.get_execution_options().get("write") and not g.get("in_job_worker")
                and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))):
            writes.append(f"GET {request.full_path}: {statement.strip()[:80]}")

    c = as_role(role)
    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        for rule, url in _urls(app, rich_world["ids"]):
            if "GET" in rule.methods:
                c.get(url).close()  # a streamed file (a job's download) is closed, not left to the collector
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert not writes, "\n".join(writes)



def test_every_page_is_chinese_and_has_no_inline_script(app, world, as_role):
    c = as_role("city_admin")
    ids = {"region_id": world["town_a"].id, "parent_id": world["district_a"].id, "user_id": world["org_leader"].id,
           "org_id": world["org_a"].id}
    for rule, url in _urls(app, ids):
        if "GET" not in rule.methods or rule.arguments - {"region_id", "parent_id", "user_id", "org_id"}:
            continue
        resp = c.get(url)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        body = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {url}"
        assert not re.search(r"\son[a-z]+=\"", body), f"inline event handler on {url}"
        assert not re.search(r"\sstyle=\"", body), f"inline style attribute (blocked by the CSP) on {url}"


def test_ids_beyond_the_integer_range_are_404_not_500(app, world, as_role):
    from werkzeug.exceptions import NotFound

    from blueprints.regions.models import Region
    from core.scope import get_scoped_or_404

    client = as_role("city_admin")
    for url in ("/regions/99999999999999999999", "/regions/2147483648", "/audit/?page=99999999999999999999"):
        assert client.get(url).status_code in (200, 404), url
    with app.test_request_context():
        with pytest.raises(NotFound):
            get_scoped_or_404(Region, "99999999999999999999", world["city_admin"])


@pytest.mark.parametrize("url", [
    "/audit/?from=9999-12-31&to=9999-12-31", "/audit/?from=0001-01-01&to=0001-01-01",
    f"/volunteers/?org={2**64 + 1}&region={2**64 + 1}&star={2**64}&year={2**64}",
    f"/volunteers/records/?from=0001-01-01&to=9999-12-31&org={2**64 + 1}&activity={2**64}&volunteer={2**64}",
    f"/orgs/?district={2**64 + 1}", f"/orgs/parent-options?region_id={2**64 + 1}",
    f"/orgs/check-duplicate?region_id={2**64 + 1}&org_id={2**64}&name=x",
    f"/activities/?from=9999-12-31&to=0001-01-01&org={2**64}&region={2**64}",
    f"/reports/?district={2**64}&period=9999-12", f"/insurance/?org={2**64}",
    f"/insurance/picker?organization={2**64}&volunteer_ids={2**64}", f"/stations/?district={2**64}",
    f"/themes/?region={2**64}&year={2**64}", f"/funding/?year={2**64}&month={2**64}",
])
def test_the_inputs_of_issue_14_answer_without_a_500(world, as_role, url):
    resp = as_role("city_admin").get(url)
    assert resp.status_code < 500, url


def test_a_nested_json_transfer_file_is_bad_input_not_a_500(world, as_role):
    from tests import factories

    resp = as_role("city_admin").post("/volunteers/transfer/import", data={
        "organization_id": str(world["org_b"].id), "id_number": factories.id_number(),
        "file": (io.BytesIO(NESTED_JSON), "transfer.json")}, content_type="multipart/form-data")
    assert resp.status_code == 422


def test_the_junk_corpus_reaches_the_names_the_views_read(field_kinds):
    """The corpus is derived from the code: a view's filter or a form's field is covered without a list."""
    everything = {name: kind for kinds in field_kinds.values() for name, kind in kinds.items()}
    for name in ("q", "page", "org", "from", "to", "district", "amount", "held_on", "name", "id_number", "file",
                 "premium", "population", "vq", "volunteer_ids"):
        assert name in everything, name
    assert field_kinds["activities"]["held_on"] == "date" and field_kinds["volunteers"]["file"] == "file"
    assert field_kinds["funding"]["amount"] == "money" and field_kinds["regions"]["population"] == "number"
    assert "amount" not in field_kinds["regions"]  # each blueprint gets its own names only
    assert field_kinds["home"]["waited"] == "number"  # the home page's poll counter gets huge numbers


@pytest.mark.parametrize("token", ["长" * 500, "../" * 10 + "etc/passwd", "a" * 300, "x\x00y", ""])
def test_a_forged_import_token_names_no_file(world, as_role, token):
    resp = as_role("city_admin").post("/orgs/import/confirm", data={"token": token})
    assert resp.status_code < 500
