"""`make bench`: build the demo-size database once, run every bench/bench_*.py, write results.json.

Each module defines `run(b: Bench) -> None` and records figures with `b.record(name, value, unit,
target=None, better="lower")`. Server time is measured in-process through the WSGI test client
(no network), p95 over repeated requests.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
INSTANCE = Path(os.environ.get("BENCH_INSTANCE_DIR", HERE / ".instance"))
os.environ["INSTANCE_DIR"] = str(INSTANCE)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{INSTANCE / 'bench.db'}")


class Bench:
    def __init__(self, app):
        self.app = app
        self.results: dict[str, dict] = {}

    def client(self, username: str):
        from core.cli import DEMO_PASSWORD

        c = self.app.test_client()
        resp = c.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert resp.status_code in (302, 303), f"bench login {username}: {resp.status_code}"
        return c

    def timed(self, fn, repeat: int = 30, warmup: int = 3) -> dict:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
        return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(p95, 1),
                "max_ms": round(samples[-1], 1), "n": repeat}

    def get_p95(self, name: str, client, url: str, target_ms: float | None = None, repeat: int = 30) -> dict:
        def call():
            resp = client.get(url)
            assert resp.status_code == 200, f"{url}: {resp.status_code}"
        stats = self.timed(call, repeat=repeat)
        self.record(name, stats["p95_ms"], "ms (p95)", target=target_ms, detail=stats | {"url": url})
        return stats

    def record(self, name: str, value, unit: str, target=None, better: str = "lower", detail: dict | None = None):
        ok = None
        if target is not None:
            ok = value <= target if better == "lower" else value >= target
        self.results[name] = {"value": value, "unit": unit, "target": target, "ok": ok, **({"detail": detail} if detail else {})}
        mark = "" if ok is None else (" ✓" if ok else " ✗ (目标 %s)" % target)
        print(f"  {name}: {value} {unit}{mark}", flush=True)


def main() -> int:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from blueprints.accounts.models import User
    from core.cli import run_seed
    from core.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})  # the bench measures pages, not the CSRF check
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        t0 = time.perf_counter()
        if not db.session.scalar(select(func.count()).select_from(User)):
            print("building the demo-size database (once) …", flush=True)
            run_seed(verbose=True)
        seed_s = time.perf_counter() - t0
    bench = Bench(app)
    bench.record("seed_demo_seconds", round(seed_s, 1), "s (0 = already built)")
    only = set(sys.argv[1:])
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        print(f"{path.stem}:", flush=True)
        module = importlib.import_module(f"bench.{path.stem}")
        module.run(bench)
    out = {
        "generated_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "results": bench.results,
    }
    results_path = HERE / "results.json"
    if only and results_path.exists():  # a partial run updates its own figures only
        previous = json.loads(results_path.read_text())
        previous["results"].update(bench.results)
        previous["generated_at"], previous["machine"] = out["generated_at"], out["machine"]
        out = previous
    results_path.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    print(f"wrote {results_path}")
    failed = [k for k, v in bench.results.items() if v.get("ok") is False]
    if failed:
        print("targets missed: " + ", ".join(failed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
