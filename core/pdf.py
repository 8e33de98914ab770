"""One entry point for PDFs: render_pdf(template, **context) over WeasyPrint.

- Chinese fonts come from Debian's TrueType CJK packages (fonts-wqy-zenhei for headings,
  fonts-arphic-uming as the Song/Ming body face), found through fontconfig.
- libharfbuzz-subset0 must be installed: without it WeasyPrint subsets fonts with fontTools and a
  one-page Chinese PDF takes seconds instead of ~0.1 s (issue #3 measurements).
- Resources are fetched only from the app's own static/ folder and its uploads (stored in the
  database, core/uploads.py): no file://, no network.
- The cache (cached_pdf, PDF_CACHE_DIR) is per server and safe so: a key names the data version, the
  layout (templates, stylesheets) and the office; it is computed from the database that every
  server shares, so two servers hold the same bytes for the same key, a stale entry is never asked
  for again, and nothing user-specific is cached (the caller's key covers its scope).
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.timeutil import local_now

BASE_URL = "https://zhiyuan.invalid/"
log = logging.getLogger("zhiyuan.pdf")

# Font configuration is costly to build and safe to reuse: one per process.
_FONT_CONFIG: FontConfiguration | None = None


def font_config() -> FontConfiguration:
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


class AppOnlyFetcher(URLFetcher):
    """Serves static/ and stored uploads (`uploads/<stored name>`); refuses everything else.
    `upload_dir` is no longer read: uploads live in the database (core/uploads.py)."""

    def __init__(self, static_dir: str, upload_dir: str | None = None):
        super().__init__(allowed_protocols=("https", "data"), allow_redirects=False)
        self.roots = {"static/": Path(static_dir).resolve()}

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if not url.startswith(BASE_URL):
            raise ValueError(f"refused non-local resource: {url[:80]}")
        rel = url[len(BASE_URL):].split("?", 1)[0].split("#", 1)[0]
        if rel.startswith("uploads/"):
            from core.uploads import read_stored

            data = read_stored(rel[len("uploads/"):])
            if data is not None:
                return URLFetcherResponse(url, data, {}, 200)
        for prefix, root in self.roots.items():
            if rel.startswith(prefix):
                path = (root / rel[len(prefix):]).resolve()
                if root in path.parents and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(), {}, 200)
        raise ValueError(f"refused resource outside static/uploads: {rel[:80]}")


def _fetcher() -> AppOnlyFetcher:
    return AppOnlyFetcher(current_app.static_folder)


# The page-break rules of pdf/_base.html ask WeasyPrint to avoid breaks; where a layout leaves it no
# allowed break at all it may fail an internal assertion instead of overflowing. Better a PDF with
# a break in an awkward place than no PDF: render once more without the "avoid" rules.
_RELAXED = ("<style>* { break-before: auto !important; break-after: auto !important;"
            " break-inside: auto !important; }</style></head>")


def render_html_to_pdf(html: str) -> bytes:
    def write(doc: str) -> bytes:
        return HTML(string=doc, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf(font_config=font_config())

    try:
        return write(html)
    except AssertionError:
        log.warning("PDF layout failed with the page-break rules; rendered again without them")
        return write(html.replace("</head>", _RELAXED, 1))


def render_pdf(template: str, **context) -> bytes:
    """Render a print template (extending pdf/_base.html) to PDF bytes."""
    context.setdefault("generated_at", local_now())
    context.setdefault("office_name", current_app.config["OFFICE_NAME"])
    html = render_template(template, **context)
    return render_html_to_pdf(html)


_LAYOUT_FINGERPRINT: str | None = None


def layout_fingerprint() -> str:
    """A digest of everything that shapes a PDF besides its data: the templates and stylesheets (read
    once per process). Part of every cache key, so a deployment that changes a layout never serves
    PDFs rendered with the old one — a frozen year's report included."""
    global _LAYOUT_FINGERPRINT
    if _LAYOUT_FINGERPRINT is None:
        digest = hashlib.sha256()
        root = Path(current_app.root_path)
        for folder, pattern in (("templates", "**/*.html"), ("static/css", "*.css")):
            for path in sorted((root / folder).glob(pattern)):
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
        _LAYOUT_FINGERPRINT = digest.hexdigest()[:16]
    return _LAYOUT_FINGERPRINT


def _cache_path(key: str) -> Path:
    cache_dir = Path(current_app.config["PDF_CACHE_DIR"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    full_key = "\x1f".join([key, layout_fingerprint(), current_app.config["OFFICE_NAME"]])
    return cache_dir / (hashlib.sha256(full_key.encode()).hexdigest() + ".pdf")


def _store(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def cached_pdf(key: str, template: str, **context) -> bytes:
    """render_pdf with a file cache; `key` must change whenever the data behind it changes
    (e.g. include a data version). Old entries are simply never asked for again."""
    path = _cache_path(key)
    if path.exists():
        return path.read_bytes()
    data = render_pdf(template, **context)
    _store(path, data)
    return data


def cached_pdf_lazy(key: str, template: str, make_context) -> bytes:
    """cached_pdf whose context is built (by `make_context() -> dict`) only on a cache miss, so that a
    repeat download costs a file read rather than the queries behind the report."""
    path = _cache_path(key)
    if path.exists():
        return path.read_bytes()
    data = render_pdf(template, **make_context())
    _store(path, data)
    return data


def pdf_response(data: bytes, filename: str, inline: bool = False):
    from urllib.parse import quote

    from flask import Response

    disposition = "inline" if inline else "attachment"
    resp = Response(data, mimetype="application/pdf")
    # RFC 5987: Chinese file names survive every browser.
    resp.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- the large PDFs run as background jobs (issue 16) -------------------------------------------
# The annual assessment report, the quarterly bulletin and the themes board take seconds to build at
# a city's size: their route serves a cached copy at once when there is one (cached_pdf_ready), and
# otherwise answers with a job (core/jobs.py) whose worker builds the PDF — into the cache as before
# — and offers it for download in 我的任务.

def cached_pdf_ready(key: str) -> bytes | None:
    """The cached PDF for `key` (as cached_pdf would serve it), or None when it is not built yet."""
    path = _cache_path(key)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def pdf_or_job(key: str | None, filename: str, kind: str, title: str, params: dict):
    """A route's answer for a large PDF: the cached file when `key` is cached, else a job of `kind`
    (a jobs.task_kind returning jobs.File) started with `params`, answered with its progress."""
    from core import jobs

    data = cached_pdf_ready(key) if key else None
    if data is not None:
        return pdf_response(data, filename)
    return jobs.start(kind, title, params)
