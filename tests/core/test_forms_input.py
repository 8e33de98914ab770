"""The project's base form: Chinese messages everywhere, control characters stripped, invisible-only
names refused, ranges on numbers, money and dates."""
from __future__ import annotations

import importlib
import pkgutil
from datetime import date

import pytest
from flask_wtf import FlaskForm as FlaskWTFForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

import blueprints
from blueprints.regions.models import Region
from core.extensions import db
from core.forms import DateField, FlaskForm, IntegerField, MoneyField
from core.validators import LIFETIME_DATES, validate_credit_code, parse_id_number

# WTForms' built-in English messages (wtforms/validators.py, fields/*.py): none may reach a user.
ENGLISH = ["Not a valid choice", "This field is required", "Field cannot be longer than", "Field must be",
           "Not a valid date value", "Not a valid integer value", "Not a valid decimal value", "Invalid input",
           "Number must be", "Invalid Choice", "is not a valid choice", "could not coerce", "Not a valid time value",
           "Not a valid float value", "Invalid value", "CSRF token", "Invalid CSRF"]


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_derives_from_the_project_base_form(app):
    for mod in pkgutil.iter_modules(blueprints.__path__):
        try:
            importlib.import_module(f"blueprints.{mod.name}.forms")
        except ModuleNotFoundError:
            pass
    forms = [c for c in _all_subclasses(FlaskWTFForm) if c.__module__.startswith(("blueprints.", "core."))]
    assert len(forms) > 40
    strays = [f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, FlaskForm)]
    assert not strays, f"forms not derived from core.forms.FlaskForm: {strays}"


class _Probe(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("姓名")
    org_name = StringField("组织名称", validators=[Length(max=5)])
    note = TextAreaField("说明")
    password = PasswordField("密码")
    kind = SelectField("类型", choices=[("a", "甲"), ("b", "乙")])
    count = IntegerField("数量")
    amount = MoneyField("金额")
    held_on = DateField("日期")
    founded_on = DateField("成立日期", allowed=LIFETIME_DATES)


def _probe(app, **data) -> _Probe:
    base = {"name": "张三", "org_name": "志愿队", "kind": "a", "count": "3", "amount": "12.50", "held_on": "2026-05-04",
            "founded_on": "1990-01-01"}
    base.update(data)
    with app.test_request_context(method="POST", data=MultiDict(base)):
        form = _Probe()
        form.validate()
        return form


def test_wtforms_own_messages_are_chinese(app):
    form = _probe(app, kind="zzz", org_name="太长的组织名称呀", count="abc", held_on="2026-02-30")
    assert form.kind.errors == ["请从列表中选择"]
    assert form.org_name.errors == ["最多 5 个字"]
    assert form.count.errors == ["请填写整数"]
    assert form.held_on.errors and "YYYY-MM-DD" in form.held_on.errors[0]
    for errors in form.errors.values():
        for message in errors:
            assert not any(e.lower() in message.lower() for e in ENGLISH), message


def test_the_zh_catalogue_answers_what_the_project_did_not_word(app):
    from core.forms import TRANSLATIONS

    assert TRANSLATIONS.gettext("Invalid email address.") == "无效的 Email 地址。"


def test_control_characters_are_stripped_and_line_breaks_kept_in_multiline_text(app):
    form = _probe(app, name="张\x01三\x1b\x7f\x85", note="第一行\r\n第二行\x0b\t尾", password="pa\x01ss")
    assert form.name.data == "张三"
    assert form.note.data == "第一行\n第二行 尾"
    assert form.password.data == "pa\x01ss"  # compared, never shown: left as typed


@pytest.mark.parametrize("value", ["\ufeff", "\u200b\u200c\u200d", "\u2060", "\u202e\u202d", "\u2066 \u2069", " \u200b "])
def test_invisible_only_names_are_refused(app, value):
    form = _probe(app, name=value, org_name=value)
    assert form.name.errors == ["请填写可见的文字（不能只有空格或不可见字符）"]
    assert form.org_name.errors == ["请填写可见的文字（不能只有空格或不可见字符）"]


def test_invisible_characters_around_a_name_are_removed(app):
    form = _probe(app, name="\u202e张三\ufeff")
    assert not form.name.errors and form.name.data == "张三"


@pytest.mark.parametrize("value,message", [
    ("1" * 40, "金额过大"), ("1" * 30 + ".123", "金额过大"), ("1" * 13, "金额过大"), ("0.001", "两位小数"),
    ("1e309", "格式不正确"), ("NaN", "格式不正确"), ("-5", "必须大于 0"), ("", "请填写金额"),
])
def test_money_is_at_most_12_integer_digits_and_2_decimals(app, value, message):
    form = _probe(app, amount=value)
    assert form.amount.errors and message in form.amount.errors[0]
    assert form.amount.amount is None


def test_money_at_the_limit_passes(app):
    from decimal import Decimal

    form = _probe(app, amount="999,999,999,999.990")
    assert not form.amount.errors and form.amount.amount == Decimal("999999999999.99")


@pytest.mark.parametrize("value", ["9" * 40, "2147483648", "-2147483648"])
def test_integers_beyond_a_database_column_are_refused(app, value):
    form = _probe(app, count=value)
    assert form.count.errors == ["数值过大"]


@pytest.mark.parametrize("field,value,message", [
    ("held_on", "0001-01-01", "日期不能早于 2000-01-01"),
    ("held_on", "9999-12-31", "日期不能晚于"),
    ("held_on", "1999-12-31", "日期不能早于 2000-01-01"),
    ("founded_on", "1899-12-31", "日期不能早于 1900-01-01"),
    ("founded_on", "9999-12-31", "日期不能晚于"),
])
def test_dates_have_bounds_for_their_meaning(app, field, value, message):
    form = _probe(app, **{field: value})
    assert form[field].errors and message in form[field].errors[0]
    assert form[field].data is None


def test_a_lifetime_date_before_2000_is_fine(app):
    form = _probe(app, founded_on="1985-06-01")
    assert not form.founded_on.errors and form.founded_on.data == date(1985, 6, 1)


def test_id_and_credit_code_are_nfkc_normalized_before_their_length_is_checked():
    assert parse_id_number(" １１０１０５１９４９１２３１００２ｘ\u200b", today=date(2026, 5, 20)).number == "11010519491231002X"
    assert validate_credit_code("\ufeff９１３５０１００Ｍ０００１００Ｙ４３ ") == "91350100M000100Y43"


def test_a_control_character_in_a_name_is_not_saved(as_role, world):
    c = as_role("city_admin")
    resp = c.post(f"/regions/{world['district_a'].id}/new", data={"name": "新\x07建\x1b镇"})
    assert resp.status_code == 303
    assert db.session.scalar(select(Region).where(Region.name == "新建镇")) is not None


def test_an_invisible_name_is_refused_on_a_real_form(as_role, world):
    c = as_role("city_admin")
    resp = c.post(f"/regions/{world['district_a'].id}/new", data={"name": "\u200b\ufeff\u202e"})
    assert resp.status_code == 422 and "不可见字符" in resp.get_data(as_text=True)


def test_a_forged_choice_and_an_overlong_text_get_chinese_messages(as_role, world):
    c = as_role("city_admin")
    resp = c.post("/accounts/new", data={"username": "new_user", "display_name": "名" * 65, "role": "hacker",
                                         "password": "abc12345"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "最多 64 个字" in body and "请从列表中选择" in body
    assert not any(e in body for e in ENGLISH)


def test_a_full_width_credit_code_with_a_trailing_space_is_accepted(as_role, world):
    from blueprints.orgs.models import Organization
    from tests.factories import credit_code

    code = credit_code()
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code) + " \u200b"
    c = as_role("district_staff")
    resp = c.post("/orgs/new", data={
        "name": "全角代码志愿服务队", "kind": "专业志愿服务队", "region_id": str(world["community_a"].id),
        "parent_id": "", "registration_type": "registered", "credit_code": full_width, "contact_name": "王芳",
        "contact_phone": "13812345678", "service_fields": ["应急救援"], "submit": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[-2000:]
    assert db.session.scalar(select(Organization).where(Organization.name == "全角代码志愿服务队")).credit_code == code


def test_a_monthly_report_draft_drops_control_characters_and_keeps_line_breaks():
    from werkzeug.datastructures import MultiDict

    from blueprints.reports.services import DraftData

    d = DraftData.from_form(MultiDict({"summary": "第一段\x0b\r\n第二段\x1b", "need_what": "助老\x07服务"}))
    assert d.summary == "第一段\n第二段"
    assert d.needs[0]["what"] == "助老服务"
