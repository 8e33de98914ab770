"""Backup and restore: the database and the uploads in one archive, keys kept apart.

The archive (tar.gz, created 0600) holds:
- `database.sqlite3` (SQLite, copied with the online backup API: a consistent snapshot even while
  the app writes, never a copy of the live file) or `database.pgdump` (PostgreSQL, `pg_dump -Fc`);
- `uploads/…`, the files under UPLOAD_DIR, copied after the database snapshot so that every file a
  row of the snapshot names is there;
- `manifest.json`: format, date, dialect, row counts per table, and every file with its SHA-256.

PII_KEY and SECRET_KEY are never put in it: whoever holds a backup must not also hold the key to
the ID numbers in it. `restore` checks every hash first and writes only into an empty instance.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import URL

from core.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A refused or failed backup/restore; the message is Chinese, for the operator."""


@dataclass
class BackupResult:
    path: Path
    files: int
    rows: dict[str, int]


# ---- helpers ------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _url() -> URL:
    return db.engine.url


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes in the environment, never argv."""
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"未找到 {name}：PostgreSQL 数据库的备份与恢复需要 PostgreSQL 客户端工具，"
                          "请先安装（如 apt-get install postgresql-client）并确保其版本不低于数据库服务器。")
    return path


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{what}失败：" + " / ".join(detail))


def row_counts(engine) -> dict[str, int]:
    """Rows per table of a database (every table it has, reflected)."""
    meta = MetaData()
    meta.reflect(bind=engine)
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in meta.sorted_tables}


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def key_locations() -> list[str]:
    """Where this instance's keys come from, for the reminder (names and places, never values)."""
    from config import INSTANCE_DIR

    out = []
    for env, file, label in (("PII_KEY", "pii_key", "PII_KEY（身份证号等个人信息的加密密钥）"),
                             ("SECRET_KEY", "secret_key", "SECRET_KEY（会话签名密钥）")):
        where = "环境变量 " + env if os.environ.get(env) else f"文件 {Path(INSTANCE_DIR) / file}"
        out.append(f"{label}：{where}")
    return out


def _key_files() -> set[Path]:
    from config import INSTANCE_DIR

    return {(Path(INSTANCE_DIR) / n).resolve() for n in ("pii_key", "secret_key")}


def _private_file(path: Path):
    """Open a new file for writing, readable by its owner only (0600), refusing to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


# ---- backup ---------------------------------------------------------------------------------------------

def default_output() -> Path:
    from config import INSTANCE_DIR

    return Path(INSTANCE_DIR) / "backups" / f"zhiyuan-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"


def create_backup(output: Path | None = None) -> BackupResult:
    target = Path(output) if output else default_output()
    if target.is_dir():
        target = target / default_output().name
    if target.exists():
        raise BackupError(f"文件 {target} 已存在，备份不会覆盖它，请换一个文件名。")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = _url()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-backup-") as tmp:
        tmpdir = Path(tmp)
        if url.get_backend_name() == "sqlite":
            db_name = SQLITE_NAME
            _sqlite_snapshot(url, tmpdir / db_name)
            rows = row_counts(_sqlite_engine(tmpdir / db_name))
        elif url.get_backend_name() == "postgresql":
            db_name = PG_NAME
            args, env = _pg_args(url)
            # Counted before the dump: the dump is at least as recent (informational only).
            rows = row_counts(db.engine)
            _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(tmpdir / db_name),
                  *args, url.database or ""], env, "pg_dump 备份数据库")
        else:
            raise BackupError(f"不支持的数据库类型：{url.get_backend_name()}")
        files = [(db_name, tmpdir / db_name)]
        uploads = _upload_dir()
        keys = _key_files()
        if uploads.is_dir():
            for path in sorted(p for p in uploads.rglob("*") if p.is_file() and not p.is_symlink()):
                if path.resolve() in keys:
                    continue  # a misconfigured UPLOAD_DIR = instance/ must not carry the keys along
                files.append((str(PurePosixPath(UPLOADS, *path.relative_to(uploads).parts)), path))
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "dialect": url.get_backend_name(),
            "database": db_name,
            "rows": rows,
            "files": [{"path": name, "sha256": _sha256(path), "size": path.stat().st_size} for name, path in files],
            "keys": "not included",
        }
        manifest_path = tmpdir / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        partial = target.with_name(target.name + ".part")
        try:
            with _private_file(partial) as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
                tar.add(manifest_path, arcname=MANIFEST)
                for name, path in files:
                    tar.add(path, arcname=name)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(path=target, files=len(files) - 1, rows=rows)


def _sqlite_engine(path: Path):
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{path}")


def _sqlite_snapshot(url: URL, dest: Path) -> None:
    source = url.database
    if not source or source == ":memory:" or not Path(source).exists():
        raise BackupError("找不到 SQLite 数据库文件，无法备份。")
    _sqlite_copy(Path(source), dest)
    os.chmod(dest, 0o600)


def _sqlite_copy(source: Path, dest: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write (it only reads `source`)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


# ---- restore --------------------------------------------------------------------------------------------

def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def read_archive(archive: Path, into: Path) -> dict:
    """Extract the archive's files into `into` after checking the manifest; returns the manifest."""
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError):
        raise BackupError(f"无法读取备份文件 {archive}（不存在或不是本系统的备份）。") from None
    with tar:
        try:
            raw = tar.extractfile(MANIFEST)
            manifest = json.loads(raw.read().decode("utf-8")) if raw else None
        except (KeyError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError("备份文件缺少有效的清单（manifest.json），无法恢复。")
        listed = {f["path"]: f for f in manifest.get("files", [])}
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            if member.name not in listed or not member.isfile() or not _safe_name(member.name):
                raise BackupError(f"备份文件含有清单之外的内容（{member.name}），已拒绝恢复。")
            dest = into / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            with _private_file(dest) as out:
                shutil.copyfileobj(src, out)
    for name, entry in listed.items():
        path = into / name
        if not path.is_file():
            raise BackupError(f"备份文件缺少 {name}，无法恢复。")
        if _sha256(path) != entry.get("sha256"):
            raise BackupError(f"{name} 的校验值（SHA-256）与清单不符：备份文件已损坏或被改动，已拒绝恢复。")
    return manifest


def _ensure_empty() -> None:
    tables = [t for t in inspect(db.engine).get_table_names()]
    if tables:
        raise BackupError(f"目标数据库不是空的（已有 {len(tables)} 张表）。恢复只写入全新的空实例，"
                          "不会覆盖现有数据：请新建一个空数据库（或移走旧的数据库文件）后重试。")
    uploads = _upload_dir()
    if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
        raise BackupError(f"上传文件目录 {uploads} 不是空的。恢复只写入全新的空实例：请换一个空目录后重试。")


def restore_backup(archive: Path) -> dict:
    _ensure_empty()
    url = _url()
    with tempfile.TemporaryDirectory(prefix="zhiyuan-restore-") as tmp:
        tmpdir = Path(tmp)
        manifest = read_archive(Path(archive), tmpdir)
        if manifest.get("dialect") != url.get_backend_name():
            raise BackupError(f"备份来自 {manifest.get('dialect')} 数据库，当前实例使用 {url.get_backend_name()}，"
                              "无法直接恢复。")
        db_file = tmpdir / manifest["database"]
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(db_file, Path(url.database))
        else:
            args, env = _pg_args(url)
            _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                  "--exit-on-error", "-d", url.database or "", *args, str(db_file)], env, "pg_restore 恢复数据库")
        uploads = _upload_dir()
        source = tmpdir / UPLOADS
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                dest = uploads / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "rb") as src, _private_file(dest) as out:
                    shutil.copyfileobj(src, out)
    return manifest


def _restore_sqlite(snapshot: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        _private_file(target).close()
    os.chmod(target, 0o600)
    _sqlite_copy(snapshot, target)
