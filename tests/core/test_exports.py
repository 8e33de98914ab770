"""Every XLSX the platform hands out is safe to open: no formula can be planted in it through stored
text, and characters XLSX cannot hold never turn an export into a 500.

The route test walks the URL map and checks every response that is an XLSX, so an export added later
is covered as soon as it exists (and an export it cannot reach fails the test until it can). A list
export answers at once with a background job (core/jobs.py); the test follows it to its file."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timezone
from decimal import Decimal

from openpyxl import load_workbook

from blueprints.awards.models import NominationStatus
from core.exports import XLSX_MIME, xlsx_bytes, xlsx_response
from core.extensions import db
from core.timeutil import local_today
from tests import factories
from tests.jobs import follow_job
from tests.themes.builders import row_of, theme_link, theme_plan

FORMULA = '=HYPERLINK("http://x","y")'
# What an anonymous applicant could type into a name; \x07 (BEL) and \x1b (ESC) cannot be written
# into XLSX at all (openpyxl raises IllegalCharacterError).
PLANTED = FORMULA + "\x07\x1b"
EXPORT_NAME = re.compile(r"export|xlsx|template")


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def _cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))  # the full reader: it reports formulas as data_type "f"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


# ---- the writer ---------------------------------------------------------------------------------

def test_text_that_excel_would_evaluate_is_written_as_a_string():
    risky = [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=1+1"]
    data = xlsx_bytes("导出", ["值"], [[v] for v in risky])
    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml  # no formula element anywhere
    cells = [c for c in _cells(data) if c.row > 1]
    assert [c.value for c in cells] == risky  # the text itself is unchanged (re-import gives it back)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)  # string, and stays text when edited


def test_numbers_dates_and_booleans_stay_typed():
    aware = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    data = xlsx_bytes("导出", ["a", "b", "c", "d", "e", "f", "g"],
                      [[12, Decimal("-1234.50"), 2.5, date(2026, 3, 1), aware, True, "普通文本"]])
    row = [c for c in _cells(data) if c.row == 2]
    assert [c.data_type for c in row] == ["n", "n", "n", "d", "d", "b", "s"]
    assert row[1].value == -1234.5 and not row[1].quotePrefix  # a negative number is not "text starting with -"
    assert row[4].value == datetime(2026, 3, 1, 10, 0)  # written in local time (Excel has no time zones)


def test_characters_xlsx_cannot_hold_are_dropped_not_a_crash():
    data = xlsx_bytes("名单\x07[1]", ["姓名"], [["张\x07三\x1b"], ["\x00\x0b\x0c\ufffe"], ["多行\n文本\t保留"]])
    values = [c.value for c in _cells(data) if c.row > 1]
    assert values == ["张三", None, "多行\n文本\t保留"]
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["名单1"]  # no [ ] or control characters in a sheet name


def test_overlong_text_is_cut_to_what_one_cell_can_hold():
    data = xlsx_bytes("导出", ["说明"], [["长" * 40000]])
    assert len(next(c for c in _cells(data) if c.row == 2).value) == 32767


def test_download_name_keeps_chinese_and_drops_control_characters(app):
    with app.test_request_context():
        resp = xlsx_response(b"x", "名录\x07\r\n.xlsx")
    assert resp.mimetype == XLSX_MIME
    assert resp.headers["Content-Disposition"] == "attachment; filename*=UTF-8''%E5%90%8D%E5%BD%95.xlsx"


def test_there_is_one_xlsx_writer():
    """Every export goes through core/exports.py: no other module builds a workbook."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for folder in ("blueprints", "core") for p in (root / folder).rglob("*.py")
                 if p.name != "exports.py" and re.search(r"\bWorkbook\(|WriteOnlyCell|\.save\(.*xlsx", p.read_text())]
    assert offenders == []


# ---- every export of the application --------------------------------------------------------------

def _plant(world) -> dict:
    """Stored text with a planted formula and control characters in every place an export shows."""
    today = local_today()
    org = factories.org(world["community_a"], PLANTED, description=PLANTED)
    planted_volunteer = factories.activity_volunteer(world["org_a"], name=PLANTED)
    factories.service_record(planted_volunteer, world["org_a"], content=PLANTED, verified=False)
    factories.monthly_report(world["district_staff"], world["district_a"], today.year - 1, 1, summary=PLANTED)
    factories.monthly_report(factories.user("org_leader", orgs=[org]), org, today.year - 1, 1, summary=PLANTED,
                             status="submitted")
    factories.ledger_entry(world["org_a"], purpose=PLANTED, note=PLANTED)
    plan = theme_plan(world["city"], today.year, rows=[("1－12", PLANTED, PLANTED, PLANTED, PLANTED)])
    act = factories.activity(world["org_a"], title=PLANTED, held_on=today)
    theme_link(act, row_of(plan, today.month), world["district_a"], concentrated=True)
    campaign = factories.award_campaign(stage="scoring")
    factories.award_nomination(campaign, world["org_a"], status=NominationStatus.RECOMMENDED.value, name=PLANTED)
    policy = factories.insurance_policy(world["org_a"], insurer=PLANTED)
    db.session.commit()
    return {"plan_id": plan.id, "campaign_id": campaign.id, "org_id": org.id, "policy_id": policy.id,
            "region_id": world["district_a"].id, "parent_id": world["city"].id, "user_id": world["org_leader"].id,
            "year": today.year}


# Exports whose default view does not list organizations by name: the query that makes them do so.
QUERIES = {"reports.matrix_export": "?level=org"}


def _get_urls(app, ids: dict):
    """(endpoint, url) of every GET route whose arguments we can fill; the exports' names are listed
    apart so that one we cannot reach is a failure, not a silent skip."""
    unreachable = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or rule.rule.endswith(".pdf"):
            continue
        if rule.arguments - ids.keys():
            if EXPORT_NAME.search(rule.endpoint) or rule.rule.endswith(".xlsx"):
                unreachable.append(f"{rule.endpoint}: no value for {sorted(rule.arguments - ids.keys())}")
            continue
        yield rule, adapter.build(rule.endpoint, {a: ids[a] for a in rule.arguments}) + QUERIES.get(rule.endpoint, "")
    assert not unreachable, "export routes this test cannot reach (add their ids to _plant):\n" + "\n".join(unreachable)


def test_every_xlsx_export_shows_planted_formulas_as_text_and_survives_control_characters(app, world, as_role):
    ids = _plant(world)
    client = as_role("city_admin")
    checked, failures = [], []
    for rule, url in _get_urls(app, ids):
        resp, as_job = follow_job(client, client.get(url))
        named_export = bool(EXPORT_NAME.search(rule.endpoint) or rule.rule.endswith(".xlsx"))
        if named_export and "template" not in rule.endpoint and not as_job:
            failures.append(f"{url} → {resp.status_code}: a list export must answer at once with a background job")
        if resp.mimetype != XLSX_MIME:
            if named_export:
                failures.append(f"{url} → {resp.status_code} {resp.mimetype}, not an XLSX")
            continue
        data = resp.get_data()
        checked.append(rule.endpoint)
        cells = list(_cells(data))
        formulas = [f"{c.coordinate}={c.value!r}" for c in cells if c.data_type == "f"]
        if formulas or "<f>" in _sheet_xml(data):
            failures.append(f"{url}: formula cells {formulas}")
        texts = [c.value for c in cells if isinstance(c.value, str)]
        if any("\x07" in t or "\x1b" in t for t in texts):
            failures.append(f"{url}: control characters written")
        # A template has no stored data; every other export must show what was planted, as text.
        if "template" not in rule.endpoint and not any(FORMULA in t for t in texts):
            failures.append(f"{url}: the planted name is missing (is the seeded data in this export?)")
    assert not failures, "\n".join(failures)
    # The known exports, as a floor: the walk found at least these.
    assert {"orgs.export", "volunteers.export", "funding.export", "awards.results_xlsx", "themes.plan_xlsx",
            "themes.board_xlsx", "orgs.import_template", "volunteers.import_template", "regions.import_template",
            "insurance.import_template"} <= set(checked), checked


def test_an_exported_planted_name_imports_back_unchanged(app, world, as_role):
    """Neutralised, not altered: the export of a planted org name re-imports as the same text."""
    from core.tabular import read_table

    factories.org(world["community_a"], PLANTED)
    db.session.commit()
    client = as_role("city_admin")
    data = follow_job(client, client.get("/orgs/export.xlsx"))[0].get_data()
    with app.app_context():
        rows = read_table("名录.xlsx", data, ["名称"])
    assert FORMULA in [r.values["名称"] for r in rows]
