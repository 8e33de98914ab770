"""Printing leaves out navigation, buttons and filters and keeps table rows whole; long actions show
progress (issue 15). The rules live in one stylesheet and one script, used by every page."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def print_block() -> str:
    css = (ROOT / "static/css/app.css").read_text(encoding="utf-8")
    start = css.index("@media print")
    depth, i = 0, css.index("{", start)
    for j in range(i, len(css)):
        depth += {"{": 1, "}": -1}.get(css[j], 0)
        if depth == 0:
            return css[start:j]
    raise AssertionError("unclosed @media print")


def test_print_hides_navigation_buttons_and_filters():
    block = print_block()
    hidden = re.search(r"([^{}]+)\{\s*display:\s*none\s*!important", block).group(1)
    for selector in (".topbar", ".sidenav", ".filters", ".pager", "button", "[role=button]", "nav.tabs",
                     "nav.breadcrumbs", "form.header-search", ".footer"):
        assert selector in hidden, selector


def test_print_keeps_rows_whole_and_repeats_table_headers():
    block = print_block()
    assert re.search(r"tr[^{]*\{[^}]*break-inside:\s*avoid", block)
    assert re.search(r"thead\s*\{[^}]*display:\s*table-header-group", block)


def test_every_page_loads_the_stylesheet_and_the_script(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/css/app.css" in html and "/static/js/app.js" in html


def test_downloads_and_uploads_get_a_busy_state_without_inline_script():
    js = (ROOT / "static/js/app.js").read_text(encoding="utf-8")
    assert r"\.(pdf|xlsx)$" in js and "data-busy" in js and "正在生成" in js
    assert "multipart/form-data" in js  # uploads and imports
    macro = (ROOT / "templates/_macros/tables.html").read_text(encoding="utf-8")
    assert 'data-busy="正在生成…"' in macro
    preview = (ROOT / "templates/_macros/imports.html").read_text(encoding="utf-8")
    assert 'data-busy="正在导入…"' in preview  # the one import preview's confirm step writes many rows
    for path in list((ROOT / "templates").rglob("import.html")) + [ROOT / "templates/volunteers/ledger/transfer_import.html"]:
        text = path.read_text(encoding="utf-8")
        assert 'data-busy="正在导入…"' in text or "import_preview(" in text, path
    for path in (ROOT / "templates").rglob("*.html"):
        assert not re.search(r"\son(click|submit|load)=", path.read_text(encoding="utf-8")), path
