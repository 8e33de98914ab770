"""The accounts' command-line tasks (added to the `flask` command by the accounts blueprint):
flask create-user, flask demo-accounts."""
from __future__ import annotations

import re

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from blueprints.accounts.forms import USERNAME_RE
from blueprints.accounts.models import Role, User
from blueprints.regions.models import Region
from core.cli import DEMO_PASSWORD
from core.extensions import db


def demo_accounts_text() -> str:
    names = ["city_admin", "district_staff", "district_staff_2", "org_leader", "org_leader_2", "leader", "reviewer",
             "volunteer", "volunteer_2"]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    lines = [f"演示账户（密码均为 {DEMO_PASSWORD}）:"]
    for n in names:
        u = users.get(n)
        if u:
            lines.append(f"  {n:<18} {u.role.label} · {u.scope_label}")
    return "\n".join(lines)


@click.command("demo-accounts")
@with_appcontext
def demo_accounts():
    """Print the demo accounts."""
    click.echo(demo_accounts_text())


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["city_admin", "district_staff", "org_leader", "leader", "reviewer"]),
              default="city_admin", show_default=True)
@click.option("--name", "display_name", default="", help="姓名/称呼")
@click.option("--region-code", default="", help="管辖区域的行政区划代码（县区工作人员、领导）")
@click.password_option(prompt="密码", confirmation_prompt="再次输入")
@with_appcontext
def create_user(username, role, display_name, region_code, password):
    """Create an account (e.g. the first city admin of a new installation)."""
    if not re.match(USERNAME_RE, username):
        raise click.ClickException("用户名为 3–32 位字母、数字、下划线、点或连字符")
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException("该用户名已存在")
    region = None
    if region_code:
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise click.ClickException(f"找不到行政区划代码 {region_code}")
    elif role in ("district_staff", "leader"):
        raise click.ClickException("县区工作人员和领导须指定 --region-code")
    user = User(username=username, display_name=display_name or username, role=Role(role), region=region)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"已创建账户 {username}（{user.role.label}）。")
