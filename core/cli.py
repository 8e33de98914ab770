"""Command-line tasks: flask seed-demo, create-user, demo-accounts, backup."""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from core.extensions import db

DEMO_PASSWORD = "Demo@2026"


def feature_seeders():
    """Each feature may ship blueprints/<name>/seed.py with seed(ctx); run in FEATURES order."""
    from app import FEATURES, _optional

    for name in FEATURES:
        module = _optional(f"blueprints.{name}.seed")
        if module is not None:
            yield name, module


def run_seed(verbose: bool = True) -> dict:
    """Build (or complete) the demo city. Idempotent: each seeder skips what exists."""
    ctx: dict = {}
    session = db.session
    session.info["actor"] = (None, "演示数据")
    session.info["audit_off"] = True
    try:
        for name, module in feature_seeders():
            if verbose:
                click.echo(f"  · {name} …")
            module.seed(ctx)
            session.commit()
    finally:
        session.info.pop("actor", None)
        session.info.pop("audit_off", None)
    return ctx


def demo_accounts_text() -> str:
    from blueprints.accounts.models import User

    names = ["city_admin", "district_staff", "district_staff_2", "org_leader", "org_leader_2", "leader", "reviewer"]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    lines = [f"演示账户（密码均为 {DEMO_PASSWORD}）:"]
    for n in names:
        u = users.get(n)
        if u:
            lines.append(f"  {n:<18} {u.role.label} · {u.scope_label}")
    return "\n".join(lines)


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="只在数据库没有任何账户时加载。")
    def seed_demo(if_empty: bool):
        """Load the demo city (湛江市) with accounts, organizations and records."""
        from blueprints.accounts.models import User

        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("数据库已有数据，跳过演示数据加载。")
            return
        click.echo("正在加载演示数据 …")
        run_seed()
        click.echo("演示数据已就绪。")

    @app.cli.command("demo-accounts")
    def demo_accounts():
        """Print the demo accounts."""
        click.echo(demo_accounts_text())

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["city_admin", "district_staff", "org_leader", "leader", "reviewer"]),
                  default="city_admin", show_default=True)
    @click.option("--name", "display_name", default="", help="姓名/称呼")
    @click.option("--region-code", default="", help="管辖区域的行政区划代码（县区工作人员、领导）")
    @click.password_option(prompt="密码", confirmation_prompt="再次输入")
    def create_user(username, role, display_name, region_code, password):
        """Create an account (e.g. the first city admin of a new installation)."""
        from blueprints.accounts.forms import USERNAME_RE
        from blueprints.accounts.models import Role, User
        from blueprints.regions.models import Region
        import re

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

    @app.cli.command("backup")
    @click.option("--dir", "target", default="", help="备份目录（默认 instance/backups）")
    def backup(target: str):
        """Back up the database (SQLite: online backup; PostgreSQL: pg_dump)."""
        out = Path(target or Path(current_app.instance_path) / "backups")
        out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            dest = out / f"zhiyuan-{stamp}.db"
            src = sqlite3.connect(url.database)
            dst = sqlite3.connect(dest)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            dest = out / f"zhiyuan-{stamp}.sql"
            pg_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
            code = os.system(f"pg_dump --no-owner --file='{dest}' '{pg_url}'")
            if code != 0:
                raise click.ClickException("pg_dump 失败")
        click.echo(f"已备份到 {dest}")

    register_cluster_cli(app)


def register_cluster_cli(app: Flask) -> None:
    """Commands of a deployment with several app servers (issue 16, docs/deployment.md)."""

    @app.cli.command("rotate-pii-key")
    @click.option("--new-key", envvar="NEW_PII_KEY", default="", help="新的 PII_KEY（默认读取环境变量 NEW_PII_KEY）")
    @click.option("--batch", default=1000, show_default=True, help="每个事务处理的志愿者数")
    def rotate_pii_key(new_key: str, batch: int):
        """Re-encrypt every ID number from PII_KEY to the new key (resumable; stop the app servers first)."""
        from blueprints.volunteers.keys import rotate_pii_key as rotate

        old = current_app.config.get("PII_KEY") or ""
        if not new_key:
            raise click.ClickException("请用 --new-key 或环境变量 NEW_PII_KEY 提供新的密钥")
        if new_key == old:
            raise click.ClickException("新密钥与当前 PII_KEY 相同")
        if batch < 1:
            raise click.ClickException("--batch 至少为 1")
        result = rotate(old, new_key, batch, progress=lambda done, total: click.echo(f"  已处理 {done} / {total}"))
        click.echo(f"完成：共 {result.total} 名志愿者，重新加密 {result.rotated} 条，"
                   f"已是新密钥 {result.already} 条；待确认的导入预览已清除。")
        if result.failed:
            raise click.ClickException(f"{len(result.failed)} 条无法用新旧密钥解密（志愿者 id：{result.failed[:20]}）")
        click.echo("请在每台应用服务器和任务进程上把 PII_KEY 设置为新密钥后重新启动。")

    @app.cli.command("import-uploads")
    @click.option("--dir", "folder", default="", help="上传文件目录（默认 UPLOAD_DIR）")
    def import_uploads(folder: str):
        """Copy uploads stored on this server's disk by earlier versions into the database."""
        from core.uploads import import_upload_dir

        folder = folder or current_app.config["UPLOAD_DIR"]
        with db.engine.begin() as conn:
            count = import_upload_dir(conn, folder)
        click.echo(f"已从 {folder} 导入 {count} 个文件。")

