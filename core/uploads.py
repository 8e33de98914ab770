"""Uploaded files (photos, scans, attachments): checked, stored in the database with random names,
served back only through a feature's own scoped route.

- The type is decided from the file's first bytes (magic numbers), never from its name or the
  browser's Content-Type; images are additionally decoded by Pillow, so a renamed or truncated
  file is refused.
- The stored name is `<area>/<32 hex>.<ext of the detected type>`: nothing the user typed ever
  becomes part of it, and `send_stored()` refuses any name that is not of that exact shape.
- The content lives in the `stored_file` table (issue 16): every app server behind the load balancer
  serves every upload, and a database backup holds them. Storing joins the request's transaction
  (a form that fails after storing leaves no file behind); `delete_stored()` joins it too, or commits
  on its own when called after the route's commit (the "delete the old file once the row points to
  the new one" pattern).
- Features keep the stored name (and, for display only, the original file name) in their own
  rows, and serve the file from a route that has checked the row is in the user's scope.
- UPLOAD_DIR is only read by `import_upload_dir()` (migration 0017_cluster, `flask import-uploads`):
  files stored on disk by earlier versions are moved into the table.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Response, abort, request
from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db, session_has_writes
from core.timeutil import utcnow

# kind → (extension, MIME type)
TYPES = {
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ole": ("doc", "application/msword"),  # legacy .doc/.xls (OLE2 compound file)
}
IMAGES = frozenset({"jpeg", "png", "gif", "webp"})
DOCUMENTS = frozenset({"pdf", "docx", "xlsx", "ole"})
ATTACHMENTS = IMAGES | DOCUMENTS
KIND_LABELS = {"jpeg": "JPG", "png": "PNG", "gif": "GIF", "webp": "WebP", "pdf": "PDF", "docx": "Word",
               "xlsx": "Excel", "ole": "Word/Excel (97-2003)"}

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_AREA_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_EXTS = "|".join(sorted({ext for ext, _ in TYPES.values()}))
_STORED_RE = re.compile(rf"^[a-z][a-z0-9_-]{{0,31}}/[0-9a-f]{{32}}\.({_EXTS})$")
_MIME_BY_EXT = {ext: mime for ext, mime in TYPES.values()}


class UploadError(ValueError):
    """A refused upload; `message` is the Chinese text shown next to the form field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative stored name, e.g. "stations/3f…9a.jpg" — keep this in the row
    content_type: str
    size: int
    original_name: str  # the user's file name, cleaned, for display only


def detect_kind(data: bytes) -> str | None:
    """The file type from its content, or None when it is none of the known types."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def _image_decodes(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        return True
    except Exception:
        return False


def clean_filename(name: str | None) -> str:
    """The user's file name for display only: no directories, no control characters, ≤ 100 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:100] or "文件"


def _describe(allowed: frozenset[str]) -> str:
    if allowed <= IMAGES:
        return "图片（" + "、".join(KIND_LABELS[k] for k in sorted(allowed)) + "）"
    return "、".join(KIND_LABELS[k] for k in sorted(allowed))


def read_upload(file_storage, allowed: frozenset[str] = IMAGES, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, str]:
    """Read and check an upload without saving it: (content, kind). Raises UploadError.

    Separate from `save()` so that a form with several files can check them all before it stores
    any (nothing half-saved)."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise UploadError("请选择文件")
    data = file_storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(f"文件过大，最大 {max_bytes // (1024 * 1024) or 1} MB")
    if not data:
        raise UploadError("文件是空的")
    kind = detect_kind(data)
    if kind is None or kind not in allowed:
        raise UploadError(f"文件类型不支持，只能上传{_describe(allowed)}")
    if kind in IMAGES and not _image_decodes(data):
        raise UploadError("图片文件已损坏或无法识别")
    return data, kind


class FileBlob(db.Model):
    """One uploaded file's content, shared by every app server (core/uploads.py)."""
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # "<area>/<32 hex>.<ext>", kept in the feature's row
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _valid_name(name: str | None) -> bool:
    return bool(name) and bool(_STORED_RE.match(name))


def store_bytes(data: bytes, kind: str, area: str, original_name: str = "") -> StoredFile:
    """Store checked content under a random name `<area>/<hex>.<ext>` (in the current transaction)."""
    if not _AREA_RE.match(area):
        raise ValueError(f"invalid upload area {area!r}")
    ext, mime = TYPES[kind]
    name = f"{area}/{secrets.token_hex(16)}.{ext}"
    db.session.add(FileBlob(name=name, content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            data=data))  # flushed with the rows that point to it
    return StoredFile(name=name, content_type=mime, size=len(data), original_name=clean_filename(original_name))


def save(file_storage, area: str, allowed: frozenset[str] = IMAGES, max_bytes: int = DEFAULT_MAX_BYTES) -> StoredFile:
    """Check and store one upload. Raises UploadError with a Chinese message."""
    data, kind = read_upload(file_storage, allowed, max_bytes)
    return store_bytes(data, kind, area, file_storage.filename)


def read_stored(name: str | None) -> bytes | None:
    """The content of a stored file, or None if the name is not one we could have made or is gone."""
    if not _valid_name(name):
        return None
    return db.session.scalar(select(FileBlob.data).where(FileBlob.name == name))


def send_stored(name: str | None, download_name: str | None = None, as_attachment: bool | None = None):
    """Response with a stored file (404 if missing or not a stored name). Call it only after the
    route has checked that the record owning the file is in the user's scope."""
    if not _valid_name(name):
        abort(404)
    row = db.session.execute(select(FileBlob.data, FileBlob.sha256).where(FileBlob.name == name)).first()
    if row is None:
        abort(404)
    mime = _MIME_BY_EXT[name.rsplit(".", 1)[1]]
    if as_attachment is None:
        as_attachment = not mime.startswith("image/") and mime != "application/pdf"
    from urllib.parse import quote

    resp = Response(row.data, mimetype=mime)
    filename = download_name or name.split("/", 1)[1]
    disposition = "attachment" if as_attachment else "inline"
    resp.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    resp.set_etag(row.sha256)
    resp.make_conditional(request)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return resp


def delete_stored(name: str | None) -> None:
    """Delete a stored file. Inside a transaction that has written (a service that flushed), the
    delete joins it and the route's commit makes it final; called after the route's commit, it
    commits on its own. After a failed flush the rollback removes what this request stored."""
    if not _valid_name(name):
        return
    session = db.session()
    try:
        pending_writes = session_has_writes(session)
        session.execute(delete(FileBlob).where(FileBlob.name == name))
        if not pending_writes:
            session.commit()
    except SQLAlchemyError:  # a failed transaction: its rollback removes the file if it stored it
        pass


def legacy_files(folder: str | Path):
    """(stored name, path) of every upload that an earlier version wrote under UPLOAD_DIR."""
    root = Path(folder)
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*")):
        name = f"{path.parent.name}/{path.name}"
        if path.is_file() and _valid_name(name):
            yield name, path


def import_upload_dir(conn, folder: str | Path) -> int:
    """Copy files from UPLOAD_DIR into `stored_file` (those not there yet); returns how many. Takes a
    Connection so that migration 0017_cluster and `flask import-uploads` share it. The files stay on
    disk (delete the folder once every server runs this version)."""
    table = FileBlob.__table__
    done = 0
    for name, path in legacy_files(folder):
        if conn.execute(select(table.c.id).where(table.c.name == name)).first() is not None:
            continue
        data = path.read_bytes()
        conn.execute(table.insert().values(name=name, content_type=_MIME_BY_EXT[name.rsplit(".", 1)[1]],
                                           size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
                                           created_at=utcnow()))
        done += 1
    return done
