from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from blueprints.accounts import services
from blueprints.accounts.commands import create_user, demo_accounts
from blueprints.accounts.forms import ChangePasswordForm, LoginForm, NewUserForm, UserForm
from blueprints.accounts.models import ROLE_LABELS, Role, User, UserStatus
from core import scope
from core.audit import record_event
from core.auth import client_ip, current_session_id, end_session, roles_required, safe_next, start_session
from core.extensions import db
from core.forms import EmptyForm
from core.nav import register_nav
from core.pagination import paginate
from core.security import CSRF_MESSAGE, csrf_failed_page
from core.templating import is_htmx

bp = Blueprint("accounts", __name__, cli_group=None)  # its commands join the top-level `flask` command
bp.cli.add_command(create_user)
bp.cli.add_command(demo_accounts)
MANAGERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF)
register_nav("账户管理", "accounts.index", MANAGERS, order=900, group="系统")


@bp.errorhandler(CSRFError)
def csrf_error(e):
    """An expired login page shows the login form again (what the user typed stays), the reason on top."""
    if request.endpoint != "accounts.login":
        return csrf_failed_page()
    form = LoginForm(meta={"csrf": False})
    form.password.data = ""
    return render_template("accounts/login.html", form=form, error=CSRF_MESSAGE), 400


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    error = None
    if request.method == "POST":
        if form.validate():
            result = services.authenticate(form.username.data, form.password.data, client_ip())
            if result.user is not None:
                start_session(result.user)
            db.session.commit()  # failed attempts and locks must be kept too
            if result.user is not None:
                return redirect(safe_next(request.args.get("next")), 303)
            error, status = result.error, result.status
        else:
            status = 422
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if not form.validate():
        abort(400)
    record_event("logout", "user", current_user.id, current_user.username, "退出登录", region_id=current_user.region_id)
    end_session()
    db.session.commit()
    flash("您已安全退出。", "success")
    return redirect(url_for("accounts.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        error = services.change_password(current_user, form.current.data, form.new.data,
                                         keep_session=current_session_id())
        if error is None:
            db.session.commit()
            flash("密码已修改，其他设备上的登录已结束。", "success")
            return redirect(url_for("home.index"), 303)
        form.current.errors.append(error)
    status = 422 if form.errors else 200
    return render_template("accounts/password.html", form=form, sessions=services.active_sessions(current_user),
                           current_sid=current_session_id(), action_form=EmptyForm()), status


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    if not EmptyForm().validate():
        abort(400)
    ended = services.end_sessions(current_user, "user", keep=current_session_id())
    if ended:
        record_event("logout", "user", current_user.id, current_user.username, f"结束了自己的其他 {ended} 个会话",
                     region_id=current_user.region_id)
    db.session.commit()
    flash(f"已结束其他 {ended} 个会话。" if ended else "没有其他会话。", "success")
    return redirect(url_for("accounts.change_password"), 303)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_own_session(session_id: int):
    if not EmptyForm().validate():
        abort(400)
    if session_id == current_session_id():
        abort(400)  # this browser's own session ends with 退出
    if not services.end_sessions(current_user, "user", only=session_id):
        abort(404)  # not one of the user's open sessions
    record_event("logout", "user", current_user.id, current_user.username, f"结束了自己的会话 #{session_id}",
                 region_id=current_user.region_id)
    db.session.commit()
    flash("该会话已结束。", "success")
    return redirect(url_for("accounts.change_password"), 303)


# ---- account management --------------------------------------------------------------------

def _visible_users():
    return scope.scoped(select(User), User, current_user)


def _managed_user_or_404(user_id: int) -> User:
    user = scope.get_scoped_or_404(User, user_id, current_user)
    if user.role not in services.assignable_roles(current_user) or user.id == current_user.id:
        abort(403)
    return user


@bp.get("/accounts")
@roles_required(*MANAGERS)
def index():
    q = request.args.get("q", "").strip()[:64]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    # Each row's scope names the leader's organizations: loaded for the page in one query, not per row.
    stmt = _visible_users().order_by(User.role, User.username).options(selectinload(User.organizations))
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True)))
    if role in [r.value for r in Role]:
        stmt = stmt.where(User.role == role)
    if status in [s.value for s in UserStatus]:
        stmt = stmt.where(User.status == status)
    page = paginate(stmt, request.args.get("page"))
    ctx = dict(page=page, q=q, role=role, status=status, roles=ROLE_LABELS, statuses=list(UserStatus),
               locked=services.locked_usernames([u.username for u in page.items]),
               can_create=bool(services.assignable_roles(current_user)), action_form=EmptyForm())
    if is_htmx():
        return render_template("accounts/_rows.html", **ctx)
    return render_template("accounts/index.html", **ctx)


def _fill_choices(form: UserForm) -> None:
    form.role.choices = [(r.value, ROLE_LABELS[r]) for r in services.assignable_roles(current_user)]
    form.region_id.choices = [(0, "—")] + [(r.id, r.name) for r in services.assignable_regions(current_user)]
    form.organizations.choices = [(o.id, f"{o.name}（{o.region.name}）") for o in services.assignable_orgs(current_user)]


def _check_assignment(form: UserForm, exclude_id: int | None = None) -> bool:
    ok = form.validate_on_submit()
    if request.method != "POST":
        return False
    if services.username_taken(form.username.data or "", exclude_id):
        form.username.errors = list(form.username.errors) + ["该用户名已被使用"]
        ok = False
    for field, message in services.validate_assignment(
        current_user, form.role.data, form.region_id.data, form.organizations.data or []
    ).items():
        getattr(form, field).errors = list(getattr(form, field).errors) + [message]
        ok = False
    return ok


@bp.route("/accounts/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def create():
    form = NewUserForm()
    _fill_choices(form)
    if _check_assignment(form):
        user = services.create_user(
            current_user, username=form.username.data, display_name=form.display_name.data,
            email=(form.email.data or "").strip(),
            password=form.password.data, role=form.role.data, region_id=form.region_id.data,
            org_ids=form.organizations.data or [],
        )
        db.session.commit()
        flash(f"已创建账户 {user.username}，首次登录须修改密码。", "success")
        return redirect(url_for("accounts.index"), 303)
    status = 422 if form.errors else 200
    return render_template("accounts/form.html", form=form, user=None), status


@bp.route("/accounts/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(user_id: int):
    user = _managed_user_or_404(user_id)
    form = UserForm(obj=user)
    _fill_choices(form)
    if request.method == "GET":
        form.role.data = user.role.value
        form.region_id.data = user.region_id or 0
        form.organizations.data = [o.id for o in user.organizations]
    if _check_assignment(form, exclude_id=user.id):
        user.username = form.username.data
        user.display_name = form.display_name.data
        user.email = (form.email.data or "").strip()
        services.apply_assignment(user, form.role.data, form.region_id.data, form.organizations.data or [])
        db.session.commit()
        flash("账户已保存。", "success")
        return redirect(url_for("accounts.index"), 303)
    status = 422 if form.errors else 200
    return render_template("accounts/form.html", form=form, user=user, sessions=services.active_sessions(user),
                           action_form=EmptyForm()), status


@bp.post("/accounts/<int:user_id>/sessions/end")
@roles_required(*MANAGERS)
def end_user_sessions(user_id: int):
    user = _managed_user_or_404(user_id)
    if not EmptyForm().validate():
        abort(400)
    ended = services.end_sessions(user, "admin")
    record_event("logout", "user", user.id, user.username, f"管理员结束了该账户的全部会话（{ended} 个）",
                 region_id=user.region_id)
    db.session.commit()
    flash(f"已结束账户 {user.username} 的 {ended} 个会话。", "success")
    return redirect(url_for("accounts.edit", user_id=user.id), 303)


@bp.post("/accounts/<int:user_id>/active")
@roles_required(*MANAGERS)
def toggle_active(user_id: int):
    user = _managed_user_or_404(user_id)
    if not EmptyForm().validate():
        abort(400)
    activate = request.form.get("active") == "1"
    services.set_active(user, activate)
    db.session.commit()
    flash(f"账户 {user.username} 已{'启用' if activate else '停用'}。", "success")
    return redirect(url_for("accounts.index"), 303)


@bp.post("/accounts/<int:user_id>/reset")
@roles_required(*MANAGERS)
def reset(user_id: int):
    user = _managed_user_or_404(user_id)
    if not EmptyForm().validate():
        abort(400)
    password = services.reset_password(user)
    db.session.commit()
    # Shown once on this response, never put in a flash message (the session cookie is not secret).
    return render_template("accounts/reset_done.html", user=user, password=password)
