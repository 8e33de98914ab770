"""Demo tree: 湛江市, its nine 县(市、区) with their real codes, streets/towns and communities/villages."""
from __future__ import annotations

import random

from sqlalchemy import select

from blueprints.regions.models import Region, RegionLevel, RegionYearFigure
from blueprints.regions.services import create_region
from core.extensions import db
from core.timeutil import local_today

# (name, code, towns, 常住人口, 城市建成区常住人口) — populations are rounded public orders of magnitude.
DISTRICTS = [
    ("赤坎区", "440802", ["中华街道", "寸金街道", "民主街道", "中山街道", "沙湾街道", "调顺街道", "南桥街道", "北桥街道"], 330_000, 318_000),
    ("霞山区", "440803", ["解放街道", "爱国街道", "工农街道", "友谊街道", "新兴街道", "海滨街道", "建设街道", "东新街道", "新园街道", "海头街道"], 520_000, 489_000),
    ("坡头区", "440804", ["南调街道", "麻斜街道", "坡头镇", "南三镇", "龙头镇", "乾塘镇", "官渡镇"], 360_000, 98_000),
    ("麻章区", "440811", ["麻章镇", "太平镇", "湖光镇", "东山街道", "东简街道", "民安街道"], 510_000, 236_000),
    ("遂溪县", "440823", ["遂城镇", "黄略镇", "洋青镇", "界炮镇", "乐民镇", "江洪镇", "杨柑镇", "城月镇"], 880_000, 205_000),
    ("徐闻县", "440825", ["徐城街道", "下洋镇", "锦和镇", "前山镇", "西连镇", "迈陈镇"], 700_000, 152_000),
    ("廉江市", "440881", ["罗州街道", "城南街道", "城北街道", "石城镇", "新民镇", "吉水镇", "河唇镇", "良垌镇"], 1_380_000, 402_000),
    ("雷州市", "440882", ["雷城街道", "西湖街道", "新城街道", "附城镇", "白沙镇", "沈塘镇", "客路镇", "杨家镇"], 1_420_000, 351_000),
    ("吴川市", "440883", ["梅菉街道", "博铺街道", "海滨街道", "塘尾街道", "大山江街道", "黄坡镇", "吴阳镇", "兰石镇"], 950_000, 297_000),
]
WORDS = ["东风", "南华", "海景", "幸福", "和平", "光明", "文明", "金沙", "富民", "椹川", "新华", "东坡", "西园",
         "北岸", "南苑", "绿塘", "荔枝", "椰林", "金海", "霞湖", "宝满", "平安", "友好", "兴华", "育才", "华港",
         "渔港", "观海", "鹿岭", "百姓"]


def seed(ctx: dict) -> None:
    city = db.session.scalar(select(Region).where(Region.code == "440800"))
    if city is None:
        rng = random.Random(440800)
        city = create_region(None, "湛江市", "440800", level=RegionLevel.CITY)
        for d_sort, (name, code, towns, pop, urban) in enumerate(DISTRICTS):
            district = create_region(city, name, code, d_sort)
            for t_sort, town_name in enumerate(towns, start=1):
                town = create_region(district, town_name, f"{code}{t_sort:03d}", t_sort)
                suffix = "社区" if town_name.endswith("街道") else "村"
                names = rng.sample(WORDS, rng.randint(4, 7))
                for c_sort, word in enumerate(names, start=1):
                    create_region(town, word + suffix, f"{town.code}{c_sort:03d}", c_sort)
            this_year = local_today().year
            for year in range(this_year - 2, this_year + 1):
                growth = 1 + 0.006 * (year - this_year)
                db.session.add(RegionYearFigure(
                    region=district, year=year, population=int(pop * growth),
                    urban_population=int(urban * growth),
                    party_members=int(pop * growth * 0.045), league_members=int(pop * growth * 0.052),
                ))
        db.session.flush()
    ctx["city"] = city
    ctx["districts"] = {r.name: r for r in db.session.scalars(
        select(Region).where(Region.level == RegionLevel.DISTRICT).order_by(Region.sort))}
