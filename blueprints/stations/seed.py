"""Demo stations: a 社区 station in most communities and 1–8 public-place stations per district,
managed by registered organizations of the district, each with one or two "五有" assessments.

The mix differs by district on purpose so that the coverage board shows all three colours
(赤坎区 green everywhere, some districts amber, some red). Bulk inserts keep `flask seed-demo` fast;
the lead organizations of the demo accounts org_leader / org_leader_2 each manage a station.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from blueprints.orgs.models import Organization, OrgStatus
from blueprints.regions.models import Region, RegionLevel
from blueprints.stations.models import (WUYOU_KEYS, Station, StationAssessment,
                                        StationAssessmentItem, StationType)
from core.extensions import db
from core.timeutil import local_today, utcnow

# district → (share of communities with a station, share of stations meeting 五有, public-place stations)
PLAN = {
    "赤坎区": (1.00, 1.00, 6),
    "霞山区": (0.92, 0.85, 5),
    "坡头区": (0.55, 0.60, 2),
    "麻章区": (0.86, 0.90, 4),
    "遂溪县": (0.70, 0.50, 3),
    "徐闻县": (0.45, 0.40, 1),
    "廉江市": (0.95, 0.82, 8),
    "雷州市": (0.62, 0.70, 5),
    "吴川市": (0.88, 0.95, 7),
}
CLOSED = {"霞山区", "雷州市"}  # districts with one stopped public-place station (besides their targets)
PUBLIC_PLACES = [
    (StationType.PARK, ["公园", "滨海公园", "森林公园", "湖光公园"]),
    (StationType.PLAZA, ["商贸广场", "步行街", "万达广场", "国贸中心"]),
    (StationType.ACTIVITY_CENTER, ["社区活动中心", "文化活动中心", "青少年宫"]),
    (StationType.SERVICE_WINDOW, ["高铁站服务窗口", "政务服务中心窗口", "汽车客运站窗口", "人民医院服务窗口"]),
    (StationType.OTHER, ["海滨浴场", "图书馆"]),
]
HOURS = ["周一至周五 08:30–11:30、15:00–18:00；周六、周日 09:00–11:30",
         "每天 08:00–18:00", "周一至周六 09:00–17:00", "周二至周日 09:00–12:00、14:30–17:30"]
SURNAMES = "陈林黄李张吴王梁刘杨郑谢何许邓冯蔡庞钟莫"
GIVEN = ["志强", "海燕", "建华", "丽娟", "国栋", "晓敏", "伟明", "秀英", "文杰", "春梅", "俊杰", "美玲"]
NOTES_OK = {
    "place": ["依托社区党群服务中心一楼设立服务台，配有电脑、打印机。", "独立服务岗位，设备齐全。"],
    "sign": ["门口悬挂“志愿服务站”牌匾，服务台统一标识。", "志愿者统一着红马甲上岗。"],
    "team": ["社区志愿服务队 30 余人，每周固定服务。", "党员、青年志愿者轮班值守。"],
    "rules": ["组织领导、招募注册、义工守则等制度已上墙。", "管理制度齐全并上墙公示。"],
    "ledger": ["活动台账完整，服务记录已录入“i志愿”系统。", "建立电子档案，按月整理。"],
}
NOTES_MISSING = {
    "place": ["暂借居委会会议室，无独立岗位。"],
    "sign": ["尚未制作统一标识牌。"],
    "team": ["队伍人数不足，未形成常态化活动。"],
    "rules": ["制度未上墙。"],
    "ledger": ["台账记录不全，未录入系统。"],
}


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(Station)):
        return  # already seeded
    rng = random.Random(440800 + 4)
    districts = list(db.session.scalars(select(Region).where(Region.level == RegionLevel.DISTRICT).order_by(Region.sort)))
    if not districts:
        return
    lead_orgs = {o.region.district_id: o for o in ctx.get("lead_orgs", []) if o.region is not None}
    communities: dict[int, list[Region]] = {}
    towns: dict[int, list[Region]] = {}
    for r in db.session.scalars(select(Region).where(Region.active, Region.level.in_(
            [RegionLevel.TOWN, RegionLevel.COMMUNITY])).order_by(Region.path)):
        (communities if r.level == RegionLevel.COMMUNITY else towns).setdefault(r.district_id, []).append(r)
    orgs: dict[int, list[int]] = {}
    for oid, did in db.session.execute(select(Organization.id, Region.district_id)
                                       .join(Region, Region.id == Organization.region_id)
                                       .where(Organization.status == OrgStatus.APPROVED).order_by(Organization.id)):
        if did:
            orgs.setdefault(did, []).append(oid)

    today = local_today()
    now = utcnow()
    station_rows: list[dict] = []
    plan_rows: list[bool] = []  # whether the station's latest assessment meets 五有
    for d in districts:
        coverage, met_share, public = PLAN.get(d.name, (0.8, 0.8, 5))
        comms = communities.get(d.id, [])
        chosen = [c for c in comms if rng.random() < coverage] if coverage < 1 else list(comms)
        district_orgs = orgs.get(d.id, [])
        lead = lead_orgs.get(d.id)
        # The demo leader's organization manages the first station of its own street.
        lead_region = next((c.id for c in chosen if lead and c.path.startswith(lead.region.path)),
                           chosen[0].id if chosen else None)
        for c in chosen:
            org_id = lead.id if (lead and c.id == lead_region) else (
                rng.choice(district_orgs) if district_orgs and rng.random() < 0.8 else None)
            station_rows.append(dict(
                name=f"{c.name}志愿服务站", station_type=StationType.COMMUNITY, region_id=c.id, district_id=d.id,
                address=f"{d.name}{c.name}党群服务中心", organization_id=org_id, opening_hours=rng.choice(HOURS),
                opened_on=today - timedelta(days=rng.randint(60, 2400)), contact_name=_person(rng),
                contact_phone=_phone(rng), active=True, created_at=now, updated_at=now))
            plan_rows.append(rng.random() < met_share)
        places = [(t, name) for t, names in PUBLIC_PLACES for name in names]
        rng.shuffle(places)
        for i, (stype, place) in enumerate(places[:public + (1 if d.name in CLOSED else 0)]):
            region = rng.choice(towns.get(d.id) or [d])
            # One stopped station in a few districts: counted in the years it ran, not after (closed_on).
            closed_on = today - timedelta(days=rng.randint(120, 400)) if d.name in CLOSED and i == public else None
            station_rows.append(dict(
                name=f"{d.name.rstrip('区县市')}{place}志愿服务站", station_type=stype, region_id=region.id,
                district_id=d.id, address=f"{d.name}{region.name}{place}", organization_id=(
                    rng.choice(district_orgs) if district_orgs else None), opening_hours=rng.choice(HOURS),
                opened_on=today - timedelta(days=rng.randint(500, 1500)), contact_name=_person(rng),
                contact_phone=_phone(rng), active=closed_on is None, closed_on=closed_on, created_at=now,
                updated_at=now))
            plan_rows.append(rng.random() < met_share)
    if not station_rows:
        return
    db.session.execute(insert(Station), station_rows)
    ids = list(db.session.scalars(select(Station.id).order_by(Station.id)))[-len(station_rows):]

    # Assessments: one or two per station (history); the latest one decides. A few stations have
    # none yet (they count as not meeting 五有 on the board).
    assessments: list[dict] = []
    items_plan: list[list[tuple[str, bool]]] = []
    office = {d.id: f"{d.name}文明办" for d in districts}
    for sid, row, met in zip(ids, station_rows, plan_rows):
        if not met and rng.random() < 0.2:
            continue  # not assessed yet
        latest_on = today - timedelta(days=rng.randint(5, 200))
        if rng.random() < 0.4:  # an earlier, weaker assessment that was followed up
            earlier = set(rng.sample(WUYOU_KEYS, rng.randint(1, 4)))
            assessments.append(dict(station_id=sid, assessed_on=latest_on - timedelta(days=rng.randint(90, 300)),
                                    assessor_name=office[row["district_id"]], all_met=False, created_at=now))
            items_plan.append([(k, k in earlier) for k in WUYOU_KEYS])
        ok = set(WUYOU_KEYS) if met else set(rng.sample(WUYOU_KEYS, rng.randint(2, 4)))
        assessments.append(dict(station_id=sid, assessed_on=latest_on, assessor_name=office[row["district_id"]],
                                all_met=met, created_at=now))
        items_plan.append([(k, k in ok) for k in WUYOU_KEYS])
    db.session.execute(insert(StationAssessment), assessments)
    a_ids = list(db.session.scalars(select(StationAssessment.id).order_by(StationAssessment.id)))[-len(assessments):]
    item_rows = []
    for aid, plan in zip(a_ids, items_plan):
        for pos, (key, ok) in enumerate(plan):
            note = rng.choice(NOTES_OK[key]) if ok and rng.random() < 0.6 else (
                rng.choice(NOTES_MISSING[key]) if not ok else "")
            item_rows.append(dict(assessment_id=aid, item=key, position=pos, ok=ok, note=note, photo=None, photo_name=""))
    _demo_photos(rng, item_rows, a_ids, ids)
    db.session.execute(insert(StationAssessmentItem), item_rows)
    db.session.flush()


def _sign_image(text: str, colour: tuple[int, int, int]) -> bytes:
    """A small picture of a station's sign board (demo only): the name on a red plaque."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (480, 320), (226, 232, 238))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 90, 440, 230), fill=colour, outline=(120, 20, 20), width=6)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 30)
    except OSError:
        font = ImageFont.load_default()
    draw.text((240, 140), text[:12], fill=(255, 240, 200), font=font, anchor="mm")
    draw.text((240, 190), "志愿服务站", fill=(255, 240, 200), font=font, anchor="mm")
    draw.rectangle((0, 260, 480, 320), fill=(150, 150, 140))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _demo_photos(rng: random.Random, item_rows: list[dict], a_ids: list[int], station_ids: list[int]) -> None:
    """Photos of the "有统一标识" item for the latest assessments of a few stations, so the demo shows
    the scoped photo route; stored like real uploads (random names under UPLOAD_DIR)."""
    from core import uploads

    names = dict(db.session.execute(select(StationAssessment.id, Station.name)
                                    .join(Station, Station.id == StationAssessment.station_id)
                                    .where(StationAssessment.id.in_(a_ids))).all())
    budget = 24
    for row in item_rows:
        if budget == 0:
            break
        if row["item"] == "sign" and row["ok"] and rng.random() < 0.15:
            text = names.get(row["assessment_id"], "").replace("志愿服务站", "")
            try:
                stored = uploads.store_bytes(_sign_image(text, (178, 34, 34)), "jpeg", "stations", "标识牌.jpg")
            except OSError:
                return  # no writable upload folder: the demo simply has no photos
            row["photo"], row["photo_name"] = stored.name, stored.original_name
            budget -= 1
