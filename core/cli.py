"""Command-line tasks: flask seed-demo, backup, restore. (The accounts feature adds create-user and
demo-accounts to the same `flask` command: blueprints/accounts/commands.py.)"""
from __future__ import annotations

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


def sync_id_sequences() -> None:
    """PostgreSQL: move each table's id sequence past the highest id. The bulk seeders insert rows with
    their ids given (fast, and the same ids on both databases), which leaves the sequence behind; the next
    row the ORM adds — a later seeder, or a user — would collide with id 1. SQLite needs nothing."""
    from sqlalchemy import Integer, text

    if db.engine.dialect.name != "postgresql":
        return
    for table in db.Model.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id" or not isinstance(pk[0].type, Integer):
            continue
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), COALESCE(MAX(id), 0) + 1, false) "
            f"FROM \"{table.name}\" HAVING pg_get_serial_sequence('\"{table.name}\"', 'id') IS NOT NULL"))
    db.session.commit()


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
            sync_id_sequences()
    finally:
        session.info.pop("actor", None)
        session.info.pop("audit_off", None)
    # Fresh statistics for the query planner (SQLite has none until ANALYZE): with 2,000,000 records
    # it picks the ledger's sort-order indexes (migration 0018_perf) only when it knows the sizes.
    # On PostgreSQL, VACUUM as well: a freshly loaded table has no visibility map, so its index-only
    # scans read the heap anyway until autovacuum comes round (the 10× ledger counts). VACUUM cannot
    # run inside a transaction: it gets a connection of its own in autocommit.
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        session.commit()
        tables = ", ".join(f'"{t.name}"' for t in db.Model.metadata.sorted_tables)  # the app's own: an
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # owner may vacuum them
            conn.execute(text(f"VACUUM (ANALYZE) {tables}"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()
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

    register_cluster_cli(app)


def register_cluster_cli(app: Flask) -> None:
    """Commands of a deployment with several app servers (issue 16, docs/deployment.md). The volunteers
    feature adds `flask rotate-pii-key` (blueprints/volunteers/keys.py)."""

    @app.cli.command("import-uploads")
    @click.option("--dir", "folder", default="", help="上传文件目录（默认 UPLOAD_DIR）")
    def import_uploads(folder: str):
        """Copy uploads stored on this server's disk by earlier versions into the database."""
        from core.uploads import import_upload_dir

        folder = folder or current_app.config["UPLOAD_DIR"]
        with db.engine.begin() as conn:
            count = import_upload_dir(conn, folder)
        click.echo(f"已从 {folder} 导入 {count} 个文件。")

