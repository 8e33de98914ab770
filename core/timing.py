"""`Server-Timing: app;dur=<ms>` on every response: the time the app spent on the request (routing,
queries, rendering), read by `make bench` (bench/run.py) and visible in the browser's network panel."""
from __future__ import annotations

import time

from flask import Flask, Response, g


def init_timing(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g._t0 = time.perf_counter()

    @app.after_request
    def _stamp(resp: Response) -> Response:
        t0 = g.pop("_t0", None)
        if t0 is not None:
            resp.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t0) * 1000:.1f}"
        return resp
