"""The recruit form's skill requirement is a row of checkboxes (the volunteers' `choices` fieldset, as on the
registration form), not a bare bulleted list of 22 boxes."""
from __future__ import annotations

import re

from core.extensions import db
from tests import factories


def test_the_recruit_forms_skills_are_a_choices_fieldset(world, as_role):
    a = factories.activity(world["org_a"], "社区文明劝导志愿服务")
    db.session.commit()
    body = as_role("org_leader").get(f"/activities/{a.id}/recruit").get_data(as_text=True)
    assert re.search(r'<fieldset class="choices[^"]*">\s*<legend>技能要求', body)
    assert not re.search(r'<ul id="skills"', body)
