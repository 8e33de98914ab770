"""Command-line tasks: flask seed-demo, create-user, demo-accounts, backup, restore."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
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
    # Fresh statistics for the query planner (SQLite has none until ANALYZE): with 2,000,000 records
    # it picks the ledger's sort-order indexes (migration 0018_perf) only when it knows the sizes.
    from sqlalchemy import text

    session.execute(text("ANALYZE"))
    session.commit()
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
    @click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=True, path_type=Path),
                  help="备份文件路径或目录（默认 instance/backups/zhiyuan-日期-时间.tar.gz）")
    def backup(output: Path | None):
        """Back up the database and the uploads into one archive (keys are not included)."""
        from core.backup import BackupError, create_backup, key_locations

        try:
            result = create_backup(output)
        except BackupError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"已备份到 {result.path}（数据库 {sum(result.rows.values())} 行，上传文件 {result.files} 个；"
                   "文件权限 0600，仅本账户可读）。")
        click.echo("提醒：备份中不含密钥。请把以下密钥另行备份、与备份文件分开保管——"
                   "没有 PII_KEY，备份里加密的身份证号将无法解密：")
        for line in key_locations():
            click.echo(f"  · {line}")

    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def restore(archive: Path):
        """Restore a backup archive into an EMPTY instance (database and upload directory)."""
        from core.backup import BackupError, restore_backup

        try:
            manifest = restore_backup(archive)
        except BackupError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"已从 {archive} 恢复（备份时间 {manifest.get('created_at', '?')}，"
                   f"文件 {len(manifest.get('files', []))} 个，校验值均一致）。")
        click.echo("请确认本实例使用与备份时相同的 PII_KEY，然后运行 flask db upgrade 以升级到当前版本。")
