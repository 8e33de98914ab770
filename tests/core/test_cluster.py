"""More than one app server (issue 16): keys from the environment, PII_KEY rotation, uploads and
pending imports in the database. The two-server scenario itself is tests/cluster/ (`make test-cluster`)."""
from __future__ import annotations

import hashlib


import pytest
from sqlalchemy import select

from app import create_app
from config import ensure_keys
from core import pii, tabular, uploads
from core.extensions import db
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # stored as is: store_bytes takes content already checked


# ---- keys -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given,missing", [({}, "SECRET_KEY 和 PII_KEY"), ({"SECRET_KEY": "s"}, "PII_KEY"),
                                           ({"PII_KEY": "p"}, "SECRET_KEY")])
def test_postgresql_without_keys_in_the_environment_refuses_to_start(monkeypatch, given, missing):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PII_KEY", raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError) as err:
        create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1:1/none"})
    message = str(err.value)
    assert f"必须在环境变量中设置 {missing}" in message and "docs/deployment.md" in message


def test_postgresql_with_keys_from_the_environment_starts(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "shared-secret")
    monkeypatch.setenv("PII_KEY", "shared-pii")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1:1/none"})
    assert (app.config["SECRET_KEY"], app.config["PII_KEY"]) == ("shared-secret", "shared-pii")


def test_sqlite_generates_its_keys_once_into_instance(monkeypatch, tmp_path):
    monkeypatch.setattr("config.INSTANCE_DIR", tmp_path)
    first = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    ensure_keys(first)
    second = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    ensure_keys(second)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and first["PII_KEY"] == second["PII_KEY"]
    assert first["SECRET_KEY"] != first["PII_KEY"] and (tmp_path / "pii_key").stat().st_mode & 0o777 == 0o600


# ---- PII_KEY rotation -------------------------------------------------------------------------------------

def test_rotate_pii_key_re_encrypts_and_rehashes_every_volunteer_in_batches(app, world):
    from blueprints.volunteers import services
    from blueprints.volunteers.models import Volunteer

    numbers = [factories.id_number() for _ in range(5)]
    for i, n in enumerate(numbers):
        factories.volunteer(world["org_a"], name=f"志愿者{i}", number=n)
    db.session.commit()
    old, new = app.config["PII_KEY"], "a-brand-new-pii-key"
    token = tabular.stash_rows(1, "volunteers:1", [{"_id_enc": "x"}])  # holds old-key tokens: dropped
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rotate-pii-key", "--batch", "2"], env={"NEW_PII_KEY": new})
    assert result.exit_code == 0, result.output
    assert "已处理 2 / 5" in result.output and "已处理 5 / 5" in result.output and "重新加密 5 条" in result.output
    db.session.expire_all()
    app.config["PII_KEY"] = new
    try:
        rows = db.session.scalars(select(Volunteer)).all()
        assert sorted(pii.decrypt(v.id_number_enc) for v in rows) == sorted(numbers)
        with pytest.raises(pii.PiiError):
            pii.decrypt(rows[0].id_number_enc, old)
        for n in numbers:  # the duplicate check and the last-4 search work with the new key
            assert services.find_person(n) is not None
            assert db.session.scalar(select(Volunteer).where(Volunteer.last4_matches(n[-4:]))) is not None
        assert db.session.get(tabular.PendingImport, token) is None
        # Resumable: a second run (after an interruption) finds everything on the new key.
        app.config["PII_KEY"] = old
        again = runner.invoke(args=["rotate-pii-key", "--new-key", new])
        assert again.exit_code == 0 and "已是新密钥 5 条" in again.output, again.output
    finally:
        app.config["PII_KEY"] = old


def test_rotate_pii_key_half_done_is_finished_by_running_it_again(app, world):
    from blueprints.volunteers.keys import rotate_pii_key
    from blueprints.volunteers.models import Volunteer

    for i in range(3):
        factories.volunteer(world["org_a"], name=f"志愿者{i}")
    db.session.commit()
    old, new = app.config["PII_KEY"], "another-new-key"
    first = db.session.scalars(select(Volunteer).order_by(Volunteer.id)).first()
    number = pii.decrypt(first.id_number_enc)
    first.id_number_enc = pii.encrypt(number, new)  # as if the run stopped after this row
    db.session.commit()
    result = rotate_pii_key(old, new, batch=1000)
    assert (result.total, result.rotated, result.already, result.failed) == (3, 2, 1, [])
    db.session.expire_all()
    assert db.session.get(Volunteer, first.id).id_hash == pii.lookup_hash(number, new)


def test_rotate_pii_key_refuses_a_missing_or_same_key(app):
    runner = app.test_cli_runner()
    assert "NEW_PII_KEY" in runner.invoke(args=["rotate-pii-key"], env={"NEW_PII_KEY": ""}).output
    same = runner.invoke(args=["rotate-pii-key", "--new-key", app.config["PII_KEY"]])
    assert same.exit_code != 0 and "相同" in same.output


# ---- uploads in the database -----------------------------------------------------------------------------

def test_an_upload_is_served_from_the_database_with_an_etag(app):
    with app.test_request_context():
        stored = uploads.store_bytes(PNG, "png", "stations", "门牌.png")
        db.session.commit()
        row = db.session.scalar(select(uploads.FileBlob).where(uploads.FileBlob.name == stored.name))
        assert (row.size, row.sha256, row.content_type) == (len(PNG), hashlib.sha256(PNG).hexdigest(), "image/png")
        resp = uploads.send_stored(stored.name, "门牌.png")
        assert resp.status_code == 200 and resp.get_data() == PNG and resp.mimetype == "image/png"
        assert resp.headers["Content-Disposition"].startswith("inline;") and "nosniff" in str(resp.headers)
    with app.test_request_context(headers={"If-None-Match": f'"{row.sha256}"'}):
        assert uploads.send_stored(stored.name).status_code == 304


def test_delete_after_the_commit_commits_itself_and_inside_a_transaction_joins_it(app):
    a = uploads.store_bytes(PNG, "png", "stations")
    b = uploads.store_bytes(PNG, "png", "stations")
    db.session.commit()
    uploads.delete_stored(a.name)  # the route has committed: the delete is final on its own
    db.session.rollback()
    assert uploads.read_stored(a.name) is None
    factories.user(factories.Role.REVIEWER, "someone")  # a service wrote something …
    db.session.flush()
    uploads.delete_stored(b.name)  # … so the delete waits for the route's commit
    db.session.rollback()
    assert uploads.read_stored(b.name) == PNG


def test_import_uploads_copies_the_files_of_earlier_versions(app, tmp_path):
    (tmp_path / "stations").mkdir()
    name = "stations/" + "a" * 32 + ".png"
    (tmp_path / name).write_bytes(PNG)
    (tmp_path / "stations" / "notes.txt").write_text("not ours")
    (tmp_path / "stations" / ("b" * 32 + ".png.part")).write_bytes(PNG)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-uploads", "--dir", str(tmp_path)])
    assert result.exit_code == 0 and "导入 1 个文件" in result.output, result.output
    assert runner.invoke(args=["import-uploads", "--dir", str(tmp_path)]).output.count("导入 0 个文件") == 1
    db.session.expire_all()
    assert uploads.read_stored(name) == PNG
    assert db.session.query(uploads.FileBlob).count() == 1


def test_pdf_fetcher_reads_stored_uploads(app):
    from core.pdf import BASE_URL, AppOnlyFetcher

    stored = uploads.store_bytes(PNG, "png", "reports")
    db.session.commit()
    with app.app_context():
        fetcher = AppOnlyFetcher(app.static_folder)
        assert fetcher.fetch(BASE_URL + "uploads/" + stored.name).read() == PNG
        with pytest.raises(ValueError):
            fetcher.fetch(BASE_URL + "uploads/stations/" + "0" * 32 + ".png")


# ---- the shared cache ----------------------------------------------------------------------------------

def test_upgrading_moves_the_files_of_upload_dir_into_the_database(tmp_path):
    """Migration 0017_cluster: an instance of an earlier version keeps its photos."""
    import os

    from flask_migrate import upgrade

    legacy = tmp_path / "uploads"
    (legacy / "stations").mkdir(parents=True)
    name = "stations/" + "c" * 32 + ".png"
    (legacy / name).write_bytes(PNG)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.db", "TESTING": True,
                      "SECRET_KEY": "k", "PII_KEY": "p", "UPLOAD_DIR": str(legacy)})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "migrations"))
        assert uploads.read_stored(name) == PNG
        db.session.remove()
        db.engine.dispose()
