"""Policy documents are cited by title (《…》), never by the seed files' numbers (issue 15)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.sources import SEEDS, cite, title

ROOT = Path(__file__).resolve().parents[2]
# "依据 002", "（001 第五条）", "按 002 附件", "种子 000" …: a seed number next to a citing word.
CODE = re.compile(r"(依据|种子|按|参照|见|据|（|\()\s*00[0-4](?!\d)|(?<![\d,.])00[0-4]\s*(第|附件|附表|§|）|\))")


def test_every_seed_has_a_title_in_book_quotes():
    assert set(SEEDS) == {"000", "001", "002", "003", "004"}
    for code in SEEDS:
        assert title(code).startswith("《") and title(code).endswith("》")


def test_cite_names_the_document_and_its_attachment():
    assert cite("000") == "《关于加快发展湛江志愿服务事业的实施意见》"
    assert cite("001", "附件4 第五条") == "《关于推进湛江市社区志愿服务制度化建设实施方案》附件4《社区志愿服务站招募注册制度》第五条"
    assert cite("002", "附件") == "《2015年广安市志愿服务制度化工作方案》附件"
    with pytest.raises(KeyError):
        cite("009")


def _template_text(path: Path) -> str:
    return re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)


def test_no_template_shows_a_seed_number():
    bad = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in (ROOT / "templates").rglob("*.html")
           for m in CODE.finditer(_template_text(p))]
    assert not bad, bad


def _strings(tree: ast.AST):
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_python_string_shows_a_seed_number():
    """Labels, messages and demo data (comments and docstrings may cite seeds for developers)."""
    bad = []
    for p in list((ROOT / "blueprints").rglob("*.py")) + list((ROOT / "core").rglob("*.py")):
        for node in _strings(ast.parse(p.read_text(encoding="utf-8"))):
            m = CODE.search(node.value)
            if m:
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno}: {m.group(0)}")
    assert not bad, bad


def test_pages_render_titles(as_role, world):
    c = as_role("city_admin")
    page = c.get("/insurance/risky")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "依据《2015年广安市志愿服务制度化工作方案》" in text and "依据 002" not in text
