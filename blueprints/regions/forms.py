from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from blueprints.regions.models import DistrictKind
from core.forms import FlaskForm, IntegerField, coerce_id, compact
from core.pickers import PickField

CODE_RE = r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$"


class RegionForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=64, message="名称最多 64 个字")])
    code = StringField("行政区划代码", validators=[
        Optional(), Regexp(CODE_RE, message="行政区划代码应为 6、9 或 12 位数字")],
        filters=[compact],  # "４４０８０２" → "440802"
        description="可选。县(市、区) 6 位，乡镇(街道) 9 位，村(社区) 12 位。")
    sort = IntegerField("排序", default=0, validators=[Optional(), NumberRange(0, 9999, "排序应为 0–9999 的整数")])
    # County-level regions only (the route drops it for the other levels).
    kind = SelectField("类别", choices=[("", "按名称判断")] + [(k.value, k.label) for k in DistrictKind],
                       validators=[Optional()],
                       description="区适用“每区 5 至 8 个公共场所站点”的目标；县、县级市适用“至少 5 个标准化站点”的目标。")


class MoveForm(FlaskForm):
    parent_id = PickField("新的上级区域", coerce=coerce_id, validators=[DataRequired("请选择新的上级区域")])


def _count(label):
    return IntegerField(label, validators=[Optional(), NumberRange(0, 100_000_000, "请填写 0 到 1 亿之间的整数")])


class FiguresForm(FlaskForm):
    year = IntegerField("年度", validators=[DataRequired("请填写年度"), NumberRange(2000, 2100, "年度应在 2000–2100 之间")])
    population = _count("常住人口")
    urban_population = _count("城市建成区常住人口")
    party_members = _count("党员人数")
    league_members = _count("团员人数")


class ImportForm(FlaskForm):
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的文件")])
