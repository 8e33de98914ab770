"""A select that never chooses for the user (登记组织, 加入组织, 所属区域 …).

`PickField` starts on an empty "请选择…" option, so a form submitted without a choice fails its
required validator instead of silently taking the first organization in the list. The one exception:
when only one real option exists it is selected (there is nothing to choose). With more than
`SEARCH_THRESHOLD` options, the `org_picker` macro (templates/_macros/forms.html) adds a type-ahead
name filter above the list, as the lists' organization filter switches to a name search.
"""
from __future__ import annotations

from wtforms import SelectField

PLACEHOLDER = "请选择…"
SEARCH_THRESHOLD = 300  # the lists' organization filter uses the same limit (orgs.services.ORG_SELECT_LIMIT)


def _blank_to_none(coerce):
    def inner(value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return coerce(value)
    return inner


class PickField(SelectField):
    """A required choice among ids (coerce=int by default); the routes set `choices` as usual."""

    def __init__(self, label=None, validators=None, coerce=int, placeholder: str = PLACEHOLDER, **kwargs):
        super().__init__(label, validators, coerce=_blank_to_none(coerce), **kwargs)
        self.placeholder = placeholder

    @property
    def real_choices(self) -> list:
        return list(super().iter_choices())

    @property
    def searchable(self) -> bool:
        return len(self.choices or []) > SEARCH_THRESHOLD

    def iter_choices(self):
        real = self.real_choices
        if self.data is None and len(real) == 1:
            value, label, _, kw = real[0]
            yield value, label, True, kw
            return
        yield "", self.placeholder, self.data is None, {}
        yield from real

    def process_formdata(self, valuelist):
        if valuelist and not (valuelist[0] or "").strip():
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        if self.data is None:  # nothing chosen: the required validator says "请选择…"
            return
        if self.validate_choice and not any(match for _, _, match, *_ in self.real_choices):
            from wtforms.validators import ValidationError

            raise ValidationError("请从列表中选择")
