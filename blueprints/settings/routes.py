"""The one page where the city admin edits the policy numbers (issue 18): star thresholds, 骨干 and
official hours, late-entry working days, the report deadline, station targets, insurance warnings.
Each shows the seed's default and the sentence it comes from; every change is audited (Setting)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.settings.forms import field_name, policy_form
from core import settings
from core.auth import roles_required
from core.extensions import db
from core.nav import register_nav
from core.workdays import LAST_YEAR

bp = Blueprint("settings", __name__, url_prefix="/settings")

register_nav("政策参数设置", "settings.policy", (Role.CITY_ADMIN,), order=855, group="系统")


def _groups() -> list[tuple[str, list[settings.Policy]]]:
    groups: dict[str, list[settings.Policy]] = {}
    for p in sorted(settings.POLICIES.values(), key=lambda p: (p.group, p.order)):
        groups.setdefault(p.group, []).append(p)
    order = ["志愿者与服务时长", "志愿服务站", "月报与保险", "嘉许回馈与活动签到"]
    return sorted(groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else len(order))


@bp.route("/policy", methods=["GET", "POST"])
@roles_required(Role.CITY_ADMIN)
def policy():
    form = policy_form(prefill=request.method == "GET")
    if form.validate_on_submit():
        try:
            changed = settings.save_policies(form.values(), current_user)
        except settings.PolicyError as e:
            db.session.rollback()
            form.show_problems(e.problems)
        else:
            db.session.commit()
            flash(f"已保存 {len(changed)} 项政策参数。" if changed else "没有修改任何参数。", "success")
            return redirect(url_for("settings.policy"), 303)
    return render_template("settings/policy.html", form=form, groups=_groups(), field_name=field_name,
                           calendar_last_year=LAST_YEAR), 422 if form.errors else 200
