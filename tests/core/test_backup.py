"""flask backup / flask restore: one archive with the database and the uploads, keys kept apart,
restored only into an empty instance, every file checked against its SHA-256."""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app import create_app
from core.backup import row_counts
from core.extensions import db
from tests import factories
from tests.core.throwaway import fresh_database_url


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def seeded(app, world, tmp_path, monkeypatch):
    """A few records of several features and two uploaded files (in an upload folder of this test's own:
    other tests leave files in the session's one)."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    v = factories.activity_volunteer(world["org_a"], name="李娜", registered_on=date(2020, 1, 1))
    factories.service_record(v, world["org_a"], hours="3")
    factories.ledger_entry(world["org_a"], amount="120.50")
    factories.insurance_policy(world["org_a"], volunteers=[v])
    db.session.commit()
    uploads = Path(app.config["UPLOAD_DIR"])
    for name, data in (("stations/" + "a" * 32 + ".png", b"\x89PNG fake image"),
                       ("funding/" + "b" * 32 + ".pdf", b"%PDF-1.4 fake scan")):
        (uploads / name).parent.mkdir(parents=True, exist_ok=True)
        (uploads / name).write_bytes(data)
    yield uploads
    for name in ("stations/" + "a" * 32 + ".png", "funding/" + "b" * 32 + ".pdf"):
        (uploads / name).unlink(missing_ok=True)


def _same_keys(app) -> dict:
    """A restore runs with the keys of the instance that was backed up (PostgreSQL insists on them)."""
    return {"SECRET_KEY": app.config["SECRET_KEY"], "PII_KEY": app.config["PII_KEY"]}


def _backup(app, out: Path):
    return app.test_cli_runner().invoke(args=["backup", "--output", str(out)])


def test_backup_then_restore_into_a_fresh_instance_gives_the_same_rows_and_files(app, seeded, tmp_path):
    archive = tmp_path / "zhiyuan.tar.gz"
    result = _backup(app, archive)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    # The reminder names where the keys are, and the archive does not hold them.
    assert "PII_KEY" in result.output and "SECRET_KEY" in result.output and "另行备份" in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        blobs = [tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()]
    assert not any(n.endswith(("pii_key", "secret_key")) for n in names)
    assert not any(app.config["PII_KEY"].encode() in b for b in blobs)
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert sum(n.startswith("uploads/") for n in names) == 2

    source_rows = row_counts(db.engine)
    assert source_rows["service_record"] == 1 and source_rows["volunteer"] == 1
    with fresh_database_url(tmp_path) as url:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **_same_keys(app),
                            "UPLOAD_DIR": str(tmp_path / "restored-uploads")})
        with fresh.app_context():  # the CLI runs in the current app context if there is one
            result = fresh.test_cli_runner().invoke(args=["restore", str(archive)])
            assert result.exit_code == 0, result.output
            assert row_counts(db.engine) == source_rows
            # Restoring again would overwrite: refused, with a message.
            again = fresh.test_cli_runner().invoke(args=["restore", str(archive)])
            assert again.exit_code != 0 and "不是空的" in again.output
            db.engine.dispose()
    assert _hashes(tmp_path / "restored-uploads") == _hashes(seeded)
    if url.startswith("sqlite"):
        assert stat.S_IMODE(os.stat(url.removeprefix("sqlite:///")).st_mode) == 0o600


def test_restore_refuses_an_archive_whose_file_does_not_match_its_hash(app, seeded, tmp_path):
    archive = tmp_path / "zhiyuan.tar.gz"
    assert _backup(app, archive).exit_code == 0
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name.startswith("uploads/stations/"):
                data = b"\x89PNG swapped"
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    with fresh_database_url(tmp_path) as url:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **_same_keys(app),
                            "UPLOAD_DIR": str(tmp_path / "restored-uploads")})
        with fresh.app_context():
            result = fresh.test_cli_runner().invoke(args=["restore", str(tampered)])
            assert inspect(db.engine).get_table_names() == []  # nothing half-restored
            db.engine.dispose()
    assert result.exit_code != 0 and "SHA-256" in result.output
    assert _hashes(tmp_path / "restored-uploads") == {}


def test_backup_never_overwrites_an_existing_file(app, tmp_path):
    target = tmp_path / "exists.tar.gz"
    target.write_bytes(b"keep me")
    result = _backup(app, target)
    assert result.exit_code != 0 and "已存在" in result.output
    assert target.read_bytes() == b"keep me"


def test_postgresql_without_pg_dump_gets_a_clear_message(monkeypatch):
    from core import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="未找到 pg_dump.*postgresql-client"):
        backup._pg_tool("pg_dump")


def test_backup_without_output_goes_to_the_instance_backups_folder(app):
    from config import INSTANCE_DIR

    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    made = sorted((Path(INSTANCE_DIR) / "backups").glob("zhiyuan-*.tar.gz"))
    assert made and str(made[-1]) in result.output
    assert stat.S_IMODE(made[-1].stat().st_mode) == 0o600
    for path in made:
        path.unlink()
