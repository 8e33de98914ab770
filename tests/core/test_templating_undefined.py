"""Undefined values print as nothing without the slow exception probe, and still fail on real use."""
import pytest
from jinja2 import UndefinedError

from core.templating import QuietUndefined


def test_undefined_prints_empty_and_is_the_quiet_kind(app):
    env = app.jinja_env
    assert env.undefined is QuietUndefined
    out = env.from_string("<option {{ 'selected' if x == 1 }}>{{ missing }}</option>").render(x=2)
    assert out == "<option ></option>"
    # the implicit else of an inline if is the quiet kind too (Jinja hard-wires the default one)
    assert env.from_string("{{ (1 if x).__class__.__name__ }}").render(x=False) == "QuietUndefined"


def test_undefined_still_fails_on_attribute_use(app):
    with pytest.raises(UndefinedError):
        app.jinja_env.from_string("{{ missing.name }}").render()
