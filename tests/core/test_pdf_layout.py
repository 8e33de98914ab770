"""Every PDF of the app, rendered from the demo city (seeded small) and checked as printed (issue 15):

- no page carries fewer than MIN_LINES lines of content (a lone table row, a signature or one form
  row pushed onto a page of its own);
- no word lies outside the page box (a cell hanging off a table, a column cut off);
- no rowspan outside an unbreakable <tbody class="keep"> (a row-spanning cell cannot follow its
  rows onto the next page);
- dates in one style (2024年11月30日), never 2024-11-30 or zero-padded 2024年03月05日.

The endpoints are found generically: every URL rule whose view sends a PDF (`pdf_response`) must be
listed in PDFS below, and every print template (templates/*/pdf/*.html) must be rendered by one of
them, so a new PDF cannot escape these checks.
"""
from __future__ import annotations

import inspect
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import template_rendered
from sqlalchemy import func, select

from core.extensions import db
from tests.jobs import export_file
from core.timeutil import local_today

MIN_LINES = 4  # lines of content a page must carry (running header and footer not counted)
MM = 72 / 25.4  # PDF points per millimetre
ROOT = Path(__file__).resolve().parents[2]

# endpoint → (role of the demo account that downloads it, print templates it renders)
PDFS: dict[str, tuple[str, tuple[str, ...]]] = {
    "assessment.report_pdf": ("leader", ("assessment/pdf/city.html",)),
    "assessment.district_pdf": ("city_admin", ("assessment/pdf/district.html",)),
    "assessment.brief_pdf": ("leader", ("assessment/pdf/brief.html",)),
    "reports.bulletin_pdf": ("city_admin", ("reports/pdf/bulletin.html",)),
    "reports.needs_pdf": ("city_admin", ("reports/pdf/needs.html",)),
    "stations.coverage_pdf": ("city_admin", ("stations/pdf/coverage.html",)),
    "regions.report_pdf": ("city_admin", ("regions/pdf/tree.html",)),
    "themes.board_pdf": ("city_admin", ("themes/pdf/board.html",)),
    "themes.plan_pdf": ("city_admin", ("themes/pdf/plan.html",)),
    "funding.statement_pdf": ("city_admin", ("funding/pdf/statement.html",)),
    "awards.nomination_pdf": ("city_admin", ("awards/pdf/nomination.html",)),
    "awards.certificates": ("city_admin", ("awards/pdf/certificate.html",)),
    "awards.certificate": ("city_admin", ("awards/pdf/certificate.html",)),
    "volunteers.certificate_pdf": ("city_admin", ("volunteers/pdf/certificate.html",)),
    "portal.certificate_pdf": ("volunteer", ("volunteers/pdf/certificate.html",)),  # the volunteer's own copy
}


def _pdf_endpoints(app) -> set[str]:
    """Endpoints whose URL names a .pdf or whose view answers with pdf_response."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            source = ""
        if rule.rule.endswith(".pdf") or "pdf_response(" in source:
            found.add(rule.endpoint)
    return found


def test_every_pdf_endpoint_and_print_template_is_checked(app):
    endpoints = _pdf_endpoints(app)
    assert endpoints - set(PDFS) == set(), "new PDF endpoints: add them to PDFS in this file"
    assert set(PDFS) - endpoints == set(), "PDFS lists endpoints that no longer exist"
    templates = {str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").glob("*/pdf/*.html")}
    covered = {t for _, ts in PDFS.values() for t in ts}
    assert templates - covered == set(), "print templates no PDF endpoint of PDFS renders"


# ---- the demo city, small -----------------------------------------------------------------------

@pytest.fixture
def demo(app, monkeypatch, tmp_path):
    from blueprints.activities import seed as activities_seed
    from blueprints.orgs import seed as orgs_seed
    from blueprints.volunteers import seed as volunteers_seed
    from blueprints.volunteers import seed_ledger
    from core.cli import run_seed

    monkeypatch.setattr(orgs_seed, "TARGET", 120)
    monkeypatch.setattr(volunteers_seed, "TARGET", 300)
    monkeypatch.setattr(volunteers_seed, "LEAD_ORG_VOLUNTEERS", 40)
    monkeypatch.setattr(seed_ledger, "TARGET", 3000)
    monkeypatch.setattr(activities_seed, "TARGET", 150)
    monkeypatch.setattr(activities_seed, "UPCOMING", 10)
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf-cache"))  # render, never read a cache
    run_seed(verbose=False)
    db.session.commit()


def _certificate(today):
    """A 记录证明 of the volunteer with the most verified records, over the whole history."""
    from blueprints.accounts.models import Role, User
    from blueprints.orgs.models import Organization
    from blueprints.volunteers import certificates
    from blueprints.volunteers.models import ServiceRecord, Volunteer

    vid = db.session.scalar(select(ServiceRecord.volunteer_id).where(ServiceRecord.status == "verified")
                            .group_by(ServiceRecord.volunteer_id).order_by(func.count().desc()).limit(1))
    v = db.session.get(Volunteer, vid)
    admin = db.session.scalar(select(User).where(User.role == Role.CITY_ADMIN))
    org = db.session.get(Organization, v.primary_org_id)
    return certificates.issue(admin, v, org, "王建华", today - timedelta(days=3 * 365), today)


def _own_certificate(today):
    """A 记录证明 of the demo account `volunteer` (issue 17: they download their own)."""
    from blueprints.accounts.models import Role, User
    from blueprints.orgs.models import Organization
    from blueprints.volunteers import certificates
    from blueprints.volunteers.models import Volunteer

    user = db.session.scalar(select(User).where(User.username == "volunteer"))
    if user is None or user.volunteer_id is None:
        return None
    v = db.session.get(Volunteer, user.volunteer_id)
    admin = db.session.scalar(select(User).where(User.role == Role.CITY_ADMIN))
    return certificates.issue(admin, v, db.session.get(Organization, v.primary_org_id), "王建华",
                              today - timedelta(days=365), today)


def _urls(app) -> dict[str, list[str]]:
    """The URLs to download per endpoint, chosen from the demo data (the hardest cases where it matters)."""
    from blueprints.awards.models import Campaign, Nomination, NominationStatus, NomineeType
    from blueprints.funding.models import LedgerEntry
    from blueprints.regions.models import Region, RegionLevel
    from blueprints.themes.models import ThemePlan
    from blueprints.volunteers.models import Certificate

    today = local_today()
    year = today.year
    prev_month = (today.replace(day=1) - timedelta(days=1))
    district = db.session.scalar(select(Region).where(Region.level == RegionLevel.DISTRICT).order_by(Region.id))
    noms = db.session.scalars(select(Nomination).order_by(Nomination.id)).all()
    project = next(n for n in noms if n.kind.nominee_type == NomineeType.PROJECT)
    volunteer_nom = next(n for n in noms if n.kind.nominee_type != NomineeType.PROJECT)
    # the longest deeds the default campaign allows: the form must stay one page, the deeds follow
    volunteer_nom.deeds = ("长期扎根社区开展关爱服务，组织志愿者为独居老人上门送餐、陪诊、代购生活用品。" * 40)[:2000]
    # deeds that just fill the form's box: the opinion rows must still fit on the same page
    project.deeds = ("项目组织志愿者每周为社区长者提供上门探访、健康监测和文体活动。" * 10)[:300]
    awarded = next((n for n in noms if n.status == NominationStatus.AWARDED), None)
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.year))
    busiest_org = db.session.scalar(select(LedgerEntry.organization_id).where(LedgerEntry.organization_id.is_not(None))
                                    .group_by(LedgerEntry.organization_id).order_by(func.count().desc()).limit(1))
    cert = db.session.scalar(select(Certificate).order_by(Certificate.id)) or _certificate(today)
    plans = db.session.scalars(select(ThemePlan).order_by(ThemePlan.id)).all()
    own_cert = _own_certificate(today)
    db.session.commit()
    with app.test_request_context():
        from flask import url_for

        urls = {
            "assessment.report_pdf": [url_for("assessment.report_pdf", year=year - 1),
                                      url_for("assessment.report_pdf", year=year)],
            "assessment.district_pdf": [url_for("assessment.district_pdf", region_id=district.id, year=year - 1)],
            "assessment.brief_pdf": [url_for("assessment.brief_pdf", month=f"{prev_month:%Y-%m}")],
            "reports.bulletin_pdf": [url_for("reports.bulletin_pdf")],
            "reports.needs_pdf": [url_for("reports.needs_pdf")],
            "stations.coverage_pdf": [url_for("stations.coverage_pdf")],
            "regions.report_pdf": [url_for("regions.report_pdf")],
            "themes.board_pdf": [url_for("themes.board_pdf")],
            "themes.plan_pdf": [url_for("themes.plan_pdf", plan_id=p.id) for p in plans[:2]],
            "funding.statement_pdf": [url_for("funding.statement_pdf", org_id=busiest_org),
                                      url_for("funding.statement_pdf", region_id=district.id)],
            "awards.nomination_pdf": [url_for("awards.nomination_pdf", nomination_id=n.id)
                                      for n in (volunteer_nom, project)],
            "awards.certificates": [url_for("awards.certificates", campaign_id=campaign.id)],
            "awards.certificate": [url_for("awards.certificate", nomination_id=awarded.id)] if awarded else [],
            "volunteers.certificate_pdf": [url_for("volunteers.certificate_pdf", cid=cert.id)] if cert else [],
            "portal.certificate_pdf": [url_for("portal.certificate_pdf", cid=own_cert.id)] if own_cert else [],
        }
    return urls


# ---- what a printed page must look like ---------------------------------------------------------

def _pages(data: bytes) -> list[dict]:
    """Per page: its size and its words with their boxes (pdftotext -bbox)."""
    xhtml = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True).stdout
    root = ElementTree.fromstring(xhtml)
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        words = [(float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), float(w.get("yMax")), w.text or "")
                 for w in page.iter("{http://www.w3.org/1999/xhtml}word")]
        pages.append({"width": float(page.get("width")), "height": float(page.get("height")), "words": words})
    return pages


def _content_lines(page: dict) -> int:
    """Lines of text between the running header and footer (bands of 17 mm at the top and the bottom)."""
    top, bottom = 17 * MM, page["height"] - 17 * MM
    ys = sorted(round((y0 + y1) / 2) for x0, y0, x1, y1, _ in page["words"] if top < (y0 + y1) / 2 < bottom)
    lines, last = 0, None
    for y in ys:
        if last is None or y - last > 3:  # words of one line share their middle within 3 pt
            lines += 1
        last = y
    return lines


BAD_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b|20\d\d年0\d月|月0\d日")


def _problems(url: str, data: bytes, html: list[str]) -> list[str]:
    out = []
    pages = _pages(data)
    for n, page in enumerate(pages, start=1):
        w, h = page["width"], page["height"]
        outside = [t for x0, y0, x1, y1, t in page["words"] if x0 < -0.5 or y0 < -0.5 or x1 > w + 0.5 or y1 > h + 0.5]
        if outside:
            out.append(f"{url} p.{n}: text outside the page: {outside[:5]}")
        if _content_lines(page) < MIN_LINES:
            words = "".join(t for *_, t in page["words"])[:80]
            out.append(f"{url} p.{n}/{len(pages)}: only {_content_lines(page)} line(s) of content: {words}")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    bad_dates = sorted(set(BAD_DATE.findall(text)))
    if bad_dates:
        out.append(f"{url}: dates not in the 2024年11月30日 style: {bad_dates}")
    for doc in html:
        for m in re.finditer(r"<td[^>]*\browspan=", doc):
            tbody = doc.rfind("<tbody", 0, m.start())
            if tbody < 0 or 'class="keep"' not in doc[tbody:doc.index(">", tbody) + 1]:
                out.append(f"{url}: rowspan outside a <tbody class=\"keep\">")
                break
    return out


def test_every_pdf_of_the_demo_city_prints_cleanly(app, demo, monkeypatch):
    import core.pdf

    urls = _urls(app)
    rendered: set[str] = set()
    html: list[str] = []
    to_pdf = core.pdf.render_html_to_pdf

    def capture(doc: str) -> bytes:  # every PDF goes through here (render_pdf, cached_pdf…)
        html.append(doc)
        return to_pdf(doc)

    monkeypatch.setattr(core.pdf, "render_html_to_pdf", capture)

    def record(sender, template, context, **extra):
        rendered.add(template.name or "")

    problems = []
    clients = {}
    template_rendered.connect(record, app)
    try:
        for endpoint, (role, templates) in PDFS.items():
            assert urls.get(endpoint), f"the demo city has nothing to render for {endpoint}"
            if role not in clients:
                clients[role] = app.test_client()
                clients[role].login(role, "Demo@2026")
            for url in urls[endpoint]:
                rendered.clear()
                html.clear()
                r = export_file(clients[role], url)  # the large PDFs are built by a job
                assert r.status_code == 200 and r.mimetype == "application/pdf", (url, r.status_code)
                assert set(templates) <= rendered and html, f"{url} did not render {templates}"
                problems += _problems(url, r.data, html)
    finally:
        template_rendered.disconnect(record, app)
    assert not problems, "\n".join(problems)
