"""Uploaded files (photos, scans, attachments): checked, stored under UPLOAD_DIR with random names,
served back only through a feature's own scoped route.

- The type is decided from the file's first bytes (magic numbers), never from its name or the
  browser's Content-Type; images are additionally decoded by Pillow, so a renamed or truncated
  file is refused.
- The stored name is `<area>/<32 hex>.<ext of the detected type>`: nothing the user typed ever
  becomes part of a path, and `send_stored()` refuses any name that is not of that exact shape or
  that resolves outside UPLOAD_DIR.
- Features keep the stored name (and, for display only, the original file name) in their own
  rows, and serve the file from a route that has checked the row is in the user's scope.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, send_file

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


def _root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]).resolve()


def store_bytes(data: bytes, kind: str, area: str, original_name: str = "") -> StoredFile:
    """Write checked content under UPLOAD_DIR/<area>/ with a random name."""
    if not _AREA_RE.match(area):
        raise ValueError(f"invalid upload area {area!r}")
    ext, mime = TYPES[kind]
    folder = _root() / area
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{area}/{secrets.token_hex(16)}.{ext}"
    path = _root() / name
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return StoredFile(name=name, content_type=mime, size=len(data), original_name=clean_filename(original_name))


def save(file_storage, area: str, allowed: frozenset[str] = IMAGES, max_bytes: int = DEFAULT_MAX_BYTES) -> StoredFile:
    """Check and store one upload. Raises UploadError with a Chinese message."""
    data, kind = read_upload(file_storage, allowed, max_bytes)
    return store_bytes(data, kind, area, file_storage.filename)


def stored_path(name: str | None) -> Path | None:
    """The absolute path of a stored name, or None if the name is not one we could have made."""
    if not name or not _STORED_RE.match(name):
        return None
    root = _root()
    path = (root / name).resolve()
    if root not in path.parents:
        return None
    return path


def send_stored(name: str | None, download_name: str | None = None, as_attachment: bool | None = None):
    """Response with a stored file (404 if missing or not a stored name). Call it only after the
    route has checked that the record owning the file is in the user's scope."""
    path = stored_path(name)
    if path is None or not path.is_file():
        abort(404)
    ext = path.suffix.lstrip(".")
    mime = _MIME_BY_EXT[ext]
    if as_attachment is None:
        as_attachment = not mime.startswith("image/") and mime != "application/pdf"
    resp = send_file(path, mimetype=mime, as_attachment=as_attachment,
                     download_name=download_name or path.name, conditional=True, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return resp


def delete_stored(name: str | None) -> None:
    path = stored_path(name)
    if path is not None:
        path.unlink(missing_ok=True)
