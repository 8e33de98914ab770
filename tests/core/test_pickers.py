"""No select silently picks the first organization (issue 15): PickField starts on "请选择…", a form
sent without a choice is refused with the field's own message, and every organization picker of a
form goes through the one `org_picker` macro."""
from __future__ import annotations

import re
from pathlib import Path

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import DataRequired

from core.pickers import PLACEHOLDER, PickField

ROOT = Path(__file__).resolve().parents[2]


class F(FlaskForm):
    org = PickField("登记组织", validators=[DataRequired("请选择登记组织")])


def _form(app, data=None, choices=((1, "甲队"), (2, "乙队"))):
    form = F(formdata=MultiDict(data) if data is not None else None, meta={"csrf": False})
    form.org.choices = list(choices)
    return form


def test_starts_on_the_placeholder_and_never_on_the_first_option(app):
    with app.test_request_context():
        html = _form(app).org()
        assert re.search(r'<option (selected )?value=""( selected)?>' + PLACEHOLDER, html)
        assert 'selected value="1"' not in html and 'value="1" selected' not in html
        assert "required" in html


def test_no_choice_is_refused_with_the_fields_message(app):
    with app.test_request_context(method="POST"):
        form = _form(app, {"org": ""})
        assert not form.validate()
        assert form.org.errors == ["请选择登记组织"]


def test_a_forged_choice_is_refused_in_chinese(app):
    with app.test_request_context(method="POST"):
        form = _form(app, {"org": "99"})
        assert not form.validate() and form.org.errors == ["请从列表中选择"]
        form = _form(app, {"org": "2"})
        assert form.validate() and form.org.data == 2


def test_the_only_option_is_chosen(app):
    with app.test_request_context():
        html = _form(app, choices=[(7, "唯一的队")]).org()
        assert PLACEHOLDER not in html and re.search(r'<option (selected value="7"|value="7" selected)', html)


ORG_FIELDS = re.compile(r"\bfield\((\w+\.)?(organization(_id)?|parent_id|holder|provider_org_id|buyer_region_id)\b")


def test_every_organization_picker_uses_the_one_macro():
    bad = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in (ROOT / "templates").rglob("*.html")
           for m in ORG_FIELDS.finditer(p.read_text(encoding="utf-8"))]
    assert not bad, bad
    used = [p for p in (ROOT / "templates").rglob("*.html") if "org_picker(" in p.read_text(encoding="utf-8")]
    assert len(used) >= 15
