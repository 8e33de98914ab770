"""The policy settings form as a browser posts it: every number in force, with some changed."""
from __future__ import annotations

from blueprints.settings.forms import field_name
from core import settings


def policy_data(**changes) -> dict[str, str]:
    """policy_data(**{"volunteers.core_hours": 50}) → the whole form's fields (a series as a tuple)."""
    data = {}
    for p in settings.POLICIES.values():
        value = changes.get(p.key, settings.policy(p.key))
        if isinstance(p.default, tuple):
            data.update({field_name(p.key, i): str(v) for i, v in enumerate(value)})
        else:
            data[field_name(p.key)] = str(value)
    return data
