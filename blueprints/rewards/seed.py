"""Demo 嘉许回馈: items of the demo organization, its community and its district (a service, a benefit
for 骨干, priorities by star level), redemptions by its best-served members recorded by the demo
org_leader, one of them reversed, and the demo volunteer's own redemption (README)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from blueprints.accounts.models import User, VolunteerAccount
from blueprints.funding.services import holder_from_org, holder_from_region
from blueprints.regions.models import Region, RegionLevel
from blueprints.rewards import services
from blueprints.rewards.models import RewardItem
from blueprints.volunteers.models import Membership, Volunteer, VolunteerStatus
from core.extensions import db
from core.timeutil import local_today


def seed(ctx: dict) -> None:
    if db.session.scalar(select(RewardItem.id).limit(1)) is not None or not ctx.get("lead_orgs"):
        return
    org = ctx["lead_orgs"][0]
    admin = ctx.get("users", {}).get("city_admin") or db.session.scalar(select(User).where(User.username == "city_admin"))
    staff = ctx.get("users", {}).get("org_leader") or db.session.scalar(select(User).where(User.username == "org_leader"))
    if admin is None or staff is None:
        return
    # The community of the organization (or the first one under its street): 001 "社区提供的爱心回馈".
    community = org.region if org.region and org.region.level == RegionLevel.COMMUNITY else None
    if community is None and org.region is not None:
        community = db.session.scalar(select(Region).where(Region.level == RegionLevel.COMMUNITY,
                                                           Region.path.startswith(org.region.path, autoescape=True))
                                      .order_by(Region.path).limit(1))
    district = org.region.district if org.region is not None else None

    def item(provider, title, kind, cost, description, min_star=0, core_only=False):
        return services.create_item(admin, provider, services.ItemData(
            title=title, kind=kind, description=description, cost=cost, min_star=min_star, core_only=core_only))

    haircut = item(holder_from_org(org), "义剪：免费理发一次", "service", "10", "每月第一个周六上午，服务站门前。")
    gift = item(holder_from_org(org), "爱心超市生活用品礼包", "benefit", "30", "志愿者骨干凭服务时长兑换（米、油、洗衣液任选）。",
                core_only=True)
    if community is not None:
        item(holder_from_region(community), "社区图书室优先借阅", "priority", "0", "一星及以上志愿者新书优先借阅。", min_star=1)
        item(holder_from_region(community), "家电义务维修", "service", "15", "社区党群服务中心每周三下午。")
    if district is not None:
        item(holder_from_region(district), "就医绿色通道（区人民医院）", "priority", "0", "三星及以上志愿者凭证享受挂号优先。",
             min_star=3)
    db.session.flush()

    # The best-served members of the demo organization redeem; the demo volunteer too (their page shows it).
    members = list(db.session.scalars(
        select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
        .where(Membership.organization_id == org.id, Volunteer.status == VolunteerStatus.ACTIVE)
        .order_by(Volunteer.total_hours.desc()).limit(6)))
    own = db.session.scalar(select(Volunteer).join(VolunteerAccount, VolunteerAccount.volunteer_id == Volunteer.id)
                            .join(User, User.id == VolunteerAccount.user_id).where(User.username == "volunteer"))
    if own is not None and own not in members:
        members.append(own)
    today = local_today()
    first = None
    for n, v in enumerate(members):
        for it in (haircut, gift):
            if services.unmet_conditions(it, v):
                continue
            try:
                r = services.redeem(staff, it, v, today - timedelta(days=3 + 5 * n), "服务站现场兑换")
            except services.RewardError:  # not a member of the demo organization
                continue
            first = first or r
    if first is not None:
        services.reverse(staff, first, "志愿者当天未到场领取，退回积分")
    db.session.flush()
