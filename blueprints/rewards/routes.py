"""嘉许回馈: items (published by organizations and communities), redemptions recorded by staff, the
district's view of what was redeemed where, the old rate page (now on /settings/policy), and the volunteer's own page
(/my/rewards, in the portal's layout)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.portal.nav import register_tab
from blueprints.rewards import services
from blueprints.rewards.forms import ItemForm, RedeemForm, ReverseForm
from blueprints.rewards.models import Redemption, RewardItem
from blueprints.rewards.services import RewardError
from blueprints.volunteers.models import Volunteer
from core import auth, scope
from core.auth import roles_required
from core.extensions import db
from core.nav import register_nav
from core.pagination import paginate
from core.roles import Role
from core.timeutil import local_today

bp = Blueprint("rewards", __name__)
READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
WRITERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)
register_nav("嘉许回馈", "rewards.index", READERS, order=640, group="保障")


def _error(form, e: RewardError) -> None:
    """The message next to its field (the first field of the form when the rule names none)."""
    target = getattr(form, e.field, None) if e.field else None
    if target is None:
        target = next(f for f in form if f.name != "csrf_token")
    target.errors = [*target.errors, e.message]


def _item_data(form: ItemForm) -> services.ItemData:
    return services.ItemData(title=form.title.data or "", kind=form.kind.data, description=form.description.data or "",
                             cost=form.cost.data, min_star=int(form.min_star.data or 0), core_only=form.core_only.data,
                             active=form.active.data)


# ---- items ----------------------------------------------------------------------------------------------

@bp.get("/rewards/")
@roles_required(*READERS)
def index():
    page = paginate(services.items_stmt(current_user), request.args.get("page"))
    return render_template("rewards/index.html", page=page, rate=services.rate(),
                           can_write=current_user.role in WRITERS)


@bp.route("/rewards/items/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_item():
    form = ItemForm()
    form.provider.choices = [("", "请选择")] + [(h.key, h.label) for h in services.providers_for(current_user)]
    if form.validate_on_submit():
        provider = services.parse_provider(current_user, form.provider.data)
        try:
            if provider is None:
                raise RewardError("请选择提供单位", "provider")
            item = services.create_item(current_user, provider, _item_data(form))
        except RewardError as e:
            _error(form, e)
        else:
            db.session.commit()
            flash("回馈项目已发布。", "success")
            return redirect(url_for("rewards.item", item_id=item.id), 303)
    return render_template("rewards/item_form.html", form=form, item=None), 422 if form.errors else 200


@bp.route("/rewards/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit_item(item_id: int):
    item = scope.get_scoped_or_404(RewardItem, item_id, current_user, write=True)
    form = ItemForm(obj=None if request.method == "POST" else item)
    if request.method == "GET":
        form.cost.data, form.min_star.data, form.kind.data = str(item.cost), str(item.min_star), item.kind.value
    del form.provider
    if form.validate_on_submit():
        try:
            services.update_item(current_user, item, _item_data(form))
        except RewardError as e:
            _error(form, e)
        else:
            db.session.commit()
            flash("回馈项目已保存。", "success")
            return redirect(url_for("rewards.item", item_id=item.id), 303)
    return render_template("rewards/item_form.html", form=form, item=item), 422 if form.errors else 200


def _item_page(item: RewardItem, form: RedeemForm, status: int = 200):
    page = paginate(services.redemptions_stmt(current_user, item_id=item.id), request.args.get("page"))
    return render_template("rewards/item.html", item=item, form=form, page=page,
                           can_write=current_user.role in WRITERS), status


@bp.get("/rewards/items/<int:item_id>")
@roles_required(*READERS)
def item(item_id: int):
    item = scope.get_scoped_or_404(RewardItem, item_id, current_user)
    form = RedeemForm()
    form.redeemed_on.data = local_today()
    return _item_page(item, form)


@bp.post("/rewards/items/<int:item_id>/redeem")
@roles_required(*WRITERS)
def redeem(item_id: int):
    """Staff record a redemption for a volunteer (named by 志愿者编号, within their scope)."""
    item = scope.get_scoped_or_404(RewardItem, item_id, current_user, write=True)
    form = RedeemForm()
    if form.validate_on_submit():
        try:
            v = services.find_volunteer(current_user, form.volunteer.data)
            services.redeem(current_user, item, v, form.redeemed_on.data, form.note.data or "")
        except RewardError as e:
            db.session.rollback()
            _error(form, e)
        else:
            db.session.commit()
            flash(f"已为 {v.name} 登记兑换“{item.title}”，扣减 {item.cost} 积分。", "success")
            return redirect(url_for("rewards.item", item_id=item.id), 303)
    return _item_page(item, form, 422)


# ---- the ledger ------------------------------------------------------------------------------------------

def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        return local_today().year
    return year if 2000 <= year <= 2100 else local_today().year


@bp.get("/rewards/redemptions")
@roles_required(*READERS)
def redemptions():
    """What was redeemed where (the district's view, scoped) and the ledger lines."""
    year = _year()
    page = paginate(services.redemptions_stmt(current_user), request.args.get("page"))
    return render_template("rewards/redemptions.html", page=page, year=year,
                           where=services.redeemed_where(current_user, year), can_write=current_user.role in WRITERS)


@bp.get("/rewards/volunteers/<int:volunteer_id>")
@roles_required(*READERS)
def volunteer(volunteer_id: int):
    v = scope.get_scoped_or_404(Volunteer, volunteer_id, current_user)
    page = paginate(services.redemptions_stmt(current_user, volunteer_id=v.id), request.args.get("page"))
    return render_template("rewards/volunteer.html", v=v, bal=services.balance(v), page=page,
                           core=services.core_communities(v))


@bp.route("/rewards/redemptions/<int:redemption_id>/reverse", methods=["GET", "POST"])
@roles_required(*WRITERS)
def reverse(redemption_id: int):
    r = scope.get_scoped_or_404(Redemption, redemption_id, current_user, write=True)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            services.reverse(current_user, r, form.reason.data)
        except RewardError as e:
            _error(form, e)
        else:
            db.session.commit()
            flash("已冲销该兑换记录，积分已退回。", "success")
            return redirect(url_for("rewards.volunteer", volunteer_id=r.volunteer_id), 303)
    return render_template("rewards/reverse.html", r=r, form=form), 422 if form.errors else 200


# ---- the rate (city admin) -------------------------------------------------------------------------------

@bp.get("/rewards/settings")
@roles_required(Role.CITY_ADMIN)
def settings():
    """The rate moved to the one policy settings page (issue 18); old links land there."""
    return redirect(url_for("settings.policy", _anchor="policy-rewards__points_per_hour"), 303)


# ---- the volunteer's own page (portal layout) -----------------------------------------------------------

@bp.get("/my/rewards")
@roles_required(Role.VOLUNTEER)
def my():
    from blueprints.portal.services import own_volunteer

    v = own_volunteer(current_user)
    bal = services.balance(v)
    items = [(i, services.unmet_conditions(i, v, bal)) for i in
             db.session.scalars(services.items_stmt(current_user, active_only=True).limit(200))]
    history = list(db.session.scalars(services.redemptions_stmt(current_user, volunteer_id=v.id).limit(50)))
    return render_template("portal/rewards.html", v=v, bal=bal, items=items, history=history)


auth.allow_volunteer("rewards.my")
register_tab("回馈", "rewards.my", order=500, in_bar=False, title="嘉许回馈（积分与兑换）")
