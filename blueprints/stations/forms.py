from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.stations.models import WUYOU_ITEMS, StationType
from core.forms import DateField, FlaskForm, IntegerField
from core.validators import LIFETIME_DATES


def _int_or_none(value):
    """A picked id; "" means none; junk becomes -1, which no choice has (the service refuses it)."""
    if value in (None, "", "0"):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        return -1
    return n if 0 < n < 2**31 else -1


class StationForm(FlaskForm):
    name = StringField("站点名称", validators=[DataRequired("请填写站点名称"), Length(max=128, message="最多 128 个字")])
    station_type = SelectField("站点类型", choices=[(t.value, t.label) for t in StationType],
                               default=StationType.COMMUNITY.value, validate_choice=False)
    region_id = SelectField("所在区域", coerce=_int_or_none, validate_choice=False,
                            description="社区志愿服务站选所在的村(社区)；公共场所站点可选所在的街道或社区。")
    address = StringField("地址", validators=[Optional(), Length(max=200, message="最多 200 个字")])
    organization_id = SelectField("管理组织", coerce=_int_or_none, validate_choice=False)
    opening_hours = StringField("开放时间", validators=[Optional(), Length(max=200, message="最多 200 个字")],
                                description="如：周一至周五 08:30–11:30、15:00–18:00；周六、周日 09:00–11:30")
    opened_on = DateField("设立日期", validators=[Optional()], allowed=LIFETIME_DATES)
    contact_name = StringField("联系人", validators=[Optional(), Length(max=64, message="最多 64 个字")])
    contact_phone = StringField("联系电话", validators=[Optional(), Length(max=32, message="联系电话过长")])
    active = BooleanField("站点运行中", default=True)

    def station_data(self, fields: set[str]) -> dict:
        return {name: self[name].data for name in fields if name in self}


class AssessmentForm(FlaskForm):
    assessed_on = DateField("评估日期", validators=[InputRequired("请填写评估日期")])
    assessor_name = StringField("评估人", validators=[DataRequired("请填写评估人"), Length(max=64, message="最多 64 个字")],
                                description="实地评估的人员，默认为当前账户")


def _add_items(cls):
    # Five yes/no items (001 "五有"), each with a note and an optional photo.
    for key, label, _ in WUYOU_ITEMS:
        setattr(cls, f"{key}_ok", RadioField(label, choices=[("1", "有"), ("0", "无")],
                                             validators=[InputRequired(f"请选择“{label}”是否达标")]))
        setattr(cls, f"{key}_note", TextAreaField("说明", validators=[Optional(), Length(max=500, message="最多 500 个字")],
                                                                 render_kw={"rows": 3}))
        setattr(cls, f"{key}_photo", FileField("照片", render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"}))
    return cls


_add_items(AssessmentForm)


def _percent(label):
    return IntegerField(label, validators=[InputRequired("请填写"), NumberRange(0, 100, "请填写 0–100 的整数")])


class TargetsForm(FlaskForm):
    city_min = IntegerField("全市志愿服务站（个，不少于）", validators=[
        InputRequired("请填写"), NumberRange(0, 10000, "请填写 0–10000 的整数")])
    public_min = IntegerField("每个县(市、区)公共场所站点下限（个）", validators=[
        InputRequired("请填写"), NumberRange(0, 1000, "请填写 0–1000 的整数")])
    public_max = IntegerField("每个县(市、区)公共场所站点上限（个）", validators=[
        InputRequired("请填写"), NumberRange(0, 1000, "请填写 0–1000 的整数")])
    coverage_percent = _percent("社区站点覆盖率目标（%）")
    wuyou_percent = _percent("“五有”达标率目标（%）")
    amber_percent = _percent("黄色预警线（达到目标的百分之几以上显示黄色，%）")
