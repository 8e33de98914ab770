"""A page's title block is text: markup there lands inside <title> (shown as raw text in the tab) and is
missing from the page. Two merges left a nav and a script in a title block; this catches every instance."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "templates"
TITLE = re.compile(r"{%-?\s*block title\s*-?%}(.*?){%-?\s*endblock", re.S)


def test_no_markup_in_any_title_block():
    found = []
    for path in ROOT.rglob("*.html"):
        for body in TITLE.findall(path.read_text(encoding="utf-8")):
            if "<" in re.sub(r"{{.*?}}|{%.*?%}", "", body, flags=re.S):
                found.append(f"{path.relative_to(ROOT)}: {body.strip()[:60]}")
    assert found == []
