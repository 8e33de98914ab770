from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField
from wtforms.validators import DataRequired, InputRequired

from blueprints.exchange.models import Dataset
from blueprints.funding.forms import RadioField
from core.forms import DateField, FlaskForm


class ExportForm(FlaskForm):
    dataset = RadioField("报送内容", choices=[(d.value, d.label) for d in Dataset], default=Dataset.RECORDS.value,
                         validators=[DataRequired("请选择报送内容")])
    start = DateField("开始日期", validators=[InputRequired("请填写开始日期")])
    end = DateField("结束日期", validators=[InputRequired("请填写结束日期")])
    include_sent = BooleanField("包含已报送")


class ImportForm(FlaskForm):
    file = FileField("对方系统导出的志愿者表（.xlsx 或 .csv）", validators=[FileRequired("请选择文件")])
