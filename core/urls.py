"""Absolute links that leave the app (printed on PDFs, sent by e-mail) are built from the configured
PUBLIC_BASE_URL, never from the request's Host header: a forged Host must not end up on a certificate
that a third party later follows."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import SecurityError


def public_url(endpoint: str, **values) -> str:
    """The absolute public URL of an endpoint, in or outside a request."""
    configured = (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").strip()
    base = urlsplit(configured if "://" in configured else "http://" + configured)  # "host[:port]" alone
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


UNTRUSTED_HOST_MESSAGE = "请求的主机名不在本系统的受信任列表中。"


def _refuse_untrusted_host():
    # Flask (TRUSTED_HOSTS) records the bad Host as the routing exception and leaves no URL adapter:
    # answer before any other hook or the error page tries to build a URL (that would be a 500).
    if isinstance(request.routing_exception, SecurityError):
        return Response(UNTRUSTED_HOST_MESSAGE, 400, mimetype="text/plain")
    return None


def init_public_urls(app: Flask) -> None:
    """`public_url` for templates; requests for a host outside TRUSTED_HOSTS (when set) get a plain 400."""
    app.jinja_env.globals["public_url"] = public_url
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
