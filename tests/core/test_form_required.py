"""Every field that refuses an empty value is marked required before the user submits (issue 15):
the shared field macro prints "*" and the `required` attribute from the field's flags, so a validator
that refuses "" must set that flag (DataRequired, InputRequired and core's Phone() do)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import Optional, StopValidation, ValidationError

import blueprints
from core.validators import Phone


def _form_classes():
    seen = {}
    for mod in pkgutil.iter_modules(blueprints.__path__):
        try:
            forms = importlib.import_module(f"blueprints.{mod.name}.forms")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(forms, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls.__module__ == forms.__name__:
                seen[f"{cls.__module__}.{cls.__name__}"] = cls
    return seen


def _refuses_empty(form, field) -> bool:
    for v in field.validators:
        if isinstance(v, Optional) or getattr(v, "optional", False) is True:
            return False
        field.data, field.raw_data = None, [""]
        try:
            v(form, field)
        except (ValidationError, StopValidation) as e:
            return bool(str(e) or getattr(e, "args", None))
        except Exception:  # a validator that needs other fields or choices: not about emptiness
            continue
    return False


def test_forms_are_found():
    assert len(_form_classes()) > 20


@pytest.mark.parametrize("name", sorted(_form_classes()))
def test_every_field_refusing_empty_input_is_flagged_required(app, name):
    cls = _form_classes()[name]
    with app.test_request_context(method="POST"):
        form = cls(formdata=MultiDict(), meta={"csrf": False})
        missing = [f.name for f in form if f.type not in ("CSRFTokenField", "HiddenField", "BooleanField",
                                                          "FileField", "SubmitField")
                   and _refuses_empty(form, f) and not f.flags.required]
    assert not missing, f"{name}: {missing} refuse an empty value but are not marked required"


def test_phone_required_is_marked_and_renders_the_required_attribute(app):
    from blueprints.volunteers.forms import VolunteerForm

    assert Phone().field_flags == {"required": True} and Phone(optional=True).field_flags == {}
    with app.test_request_context():
        form = VolunteerForm(meta={"csrf": False})
        assert form.phone.flags.required and not form.guardian_phone.flags.required
        assert "required" in form.phone()


def test_registration_page_marks_phone_before_submitting(as_role, world):
    html = as_role("district_staff").get("/volunteers/new").get_data(as_text=True)
    label = html.split('for="phone"', 1)[1].split("</label>", 1)[0]
    assert 'class="req"' in label
    assert 'id="phone"' in html and "required" in html.split('id="phone"', 1)[1].split(">", 1)[0] \
        or "required" in html.split('id="phone"', 1)[0].rsplit("<input", 1)[1]
