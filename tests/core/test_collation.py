"""Chinese names sort in pinyin order (issue 15), in Python and in the database, kept on every save."""
from __future__ import annotations

from sqlalchemy import insert, select

from blueprints.orgs.models import Organization
from blueprints.volunteers.models import Volunteer
from core.collation import pinyin_key, pinyin_sorted
from core.extensions import db
from tests import factories

NAMES = ["张三", "阿明", "先锋队", "西安路", "李四", "Zeta", "王五", "abc"]
PINYIN_ORDER = ["阿明", "abc", "李四", "王五", "西安路", "先锋队", "Zeta", "张三"]


def test_pinyin_key_orders_by_sound_not_code_point():
    assert sorted(NAMES) != PINYIN_ORDER  # code points put 先 (U+5148) before 张, 阿 after 李 …
    assert pinyin_sorted(NAMES, key=str) == PINYIN_ORDER
    assert pinyin_key("重庆") == "chong2qing4"  # phrases read right (not zhong)
    assert pinyin_key("") == "" and pinyin_key(None) == ""


def test_organization_key_is_set_on_insert_and_kept_on_rename(app):
    w = factories.city_tree()
    o = factories.org(w["community_a"], "张庄志愿服务队")
    assert o.name_pinyin == pinyin_key("张庄志愿服务队")
    o.name = "阿里志愿服务队"
    db.session.flush()
    assert db.session.scalar(select(Organization.name_pinyin).where(Organization.id == o.id)) == pinyin_key("阿里志愿服务队")


def test_bulk_insert_fills_the_key_row_by_row(app):
    # The demo seeders insert organizations through Core executemany: the default is per row.
    w = factories.city_tree()
    db.session.execute(insert(Organization), [
        {"name": n, "region_id": w["community_a"].id, "district_id": w["district_a"].id} for n in ("先锋队", "阿明队")])
    keys = dict(db.session.execute(select(Organization.name, Organization.name_pinyin)).all())
    assert keys == {"先锋队": pinyin_key("先锋队"), "阿明队": pinyin_key("阿明队")}


def test_registry_lists_sort_in_pinyin_order(as_role, world):
    for name in ("张庄志愿服务队", "阿里志愿服务队", "先锋志愿服务队", "西安志愿服务队"):
        factories.org(world["community_a"], name)
    v_names = ["周杰", "安然", "欧阳明", "白雪"]
    for name in v_names:
        factories.volunteer(world["org_a"], name=name)
    db.session.commit()
    html = as_role("city_admin").get("/orgs/?sort=name").get_data(as_text=True)
    positions = [html.index(n) for n in ("阿里志愿服务队", "西安志愿服务队", "先锋志愿服务队", "张庄志愿服务队")]
    assert positions == sorted(positions)
    ordered = list(db.session.scalars(select(Volunteer.name).order_by(Volunteer.name_pinyin, Volunteer.id)))
    assert ordered == ["安然", "白雪", "欧阳明", "周杰"]


def test_volunteer_rename_updates_the_key(app, world):
    v = factories.volunteer(world["org_a"], name="周杰")
    v.name = "安然"
    db.session.flush()
    assert db.session.scalar(select(Volunteer.name_pinyin).where(Volunteer.id == v.id)) == pinyin_key("安然")
