"""Forms of the monthly reports (Chinese labels and messages). The draft itself is read from the
request by `services.DraftData.from_form` (its needs are a variable list of rows)."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.reports.models import AttachmentKind
from core.forms import FlaskForm


class TransitionForm(FlaskForm):
    action = HiddenField()
    comment = TextAreaField("意见", validators=[Optional(), Length(max=2000, message="意见最多 2000 字")])


class AttachmentForm(FlaskForm):
    kind = SelectField("附件类别", choices=[(k.value, k.label) for k in AttachmentKind],
                       validators=[InputRequired(message="请选择附件类别")])
    file = FileField("文件")


class RemindForm(FlaskForm):
    level = HiddenField(default="org")
    period = HiddenField()
