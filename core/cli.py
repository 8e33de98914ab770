"""Command-line tasks: flask seed-demo, backup. (The accounts feature adds create-user and demo-accounts
to the same `flask` command: blueprints/accounts/commands.py.)"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from core.auth import ACCOUNTS
from core.extensions import db
from core.features import feature_modules

DEMO_PASSWORD = "Demo@2026"


def feature_seeders():
    """Each feature may ship blueprints/<name>/seed.py with seed(ctx); run in FEATURES order."""
    return feature_modules("seed")


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


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="只在数据库没有任何账户时加载。")
    def seed_demo(if_empty: bool):
        """Load the demo city (湛江市) with accounts, organizations and records."""
        if if_empty and db.session.scalar(select(func.count()).select_from(ACCOUNTS.user)):
            click.echo("数据库已有数据，跳过演示数据加载。")
            return
        click.echo("正在加载演示数据 …")
        run_seed()
        click.echo("演示数据已就绪。")

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
