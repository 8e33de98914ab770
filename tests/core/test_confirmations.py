"""Irreversible actions ask for confirmation and say what will be frozen (issue 15). One mechanism:
data-confirm on a form or a submit button (static/js/app.js), hx-confirm on an htmx form."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Endpoints whose POST freezes or ends something.
IRREVERSIBLE = ["reports.transition", "awards.advance", "awards.transition", "assessment.freeze",
                "ledger.record_verify", "ledger.verify_batch", "themes.transition', plan_id=plan.id, action='publish"]


def _uses(endpoint: str):
    for p in (ROOT / "templates").rglob("*.html"):
        text = p.read_text(encoding="utf-8")
        for m in re.finditer(re.escape(f"url_for('{endpoint}"), text):
            # the opening tag or the post_button(...) call around the URL
            start = max(text.rfind("<form", 0, m.start()), text.rfind("post_button(", 0, m.start()))
            end = text.find(">", m.end()) if text.rfind("<form", 0, m.start()) == start else text.find(") }}", m.end())
            yield p, text[start:end + 1]


def test_every_irreversible_form_asks_first():
    seen = 0
    for endpoint in IRREVERSIBLE:
        for path, tag in _uses(endpoint):
            seen += 1
            assert re.search(r"(data-confirm|hx-confirm|confirm=)", tag), f"{path.name}: {tag}"
    assert seen >= len(IRREVERSIBLE)


def test_app_js_honours_confirm_on_forms_and_buttons():
    js = (ROOT / "static/js/app.js").read_text(encoding="utf-8")
    assert "ev.submitter" in js and "dataset.confirm" in js and "window.confirm" in js


def test_report_submit_button_says_the_month_freezes(as_role, world):
    from datetime import date

    from tests import factories
    from core.extensions import db

    today = date.today()
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    report = factories.monthly_report(world["org_leader"], world["org_a"], y, m, status="draft")
    db.session.commit()
    html = as_role("org_leader").get(f"/reports/{report.id}/edit").get_data(as_text=True)
    button = html.split('id="submit-report"', 1)[1].split(">", 1)[0]
    assert 'data-confirm="提交后本月数据' in button and "冻结" in button and "确定提交？" in button
