"""Annual assessment PDFs (issue 10): the city report at demo size (< 5 s, empty cache), a repeat
download from the cache (< 200 ms), and the one-page district summary against a one-page Latin PDF
rendered in the same run (within 2×)."""
from __future__ import annotations

import re
import statistics
import tempfile
import time

from bench.bench_pdf import LATIN, LATIN_P


def run(b) -> None:
    from blueprints.assessment import services
    from flask import render_template

    from core.pdf import render_html_to_pdf
    from core.timeutil import local_now, local_today

    year = local_today().year
    c = b.client("city_admin")
    url = f"/assessment/report.pdf?year={year}"
    original = b.app.config["PDF_CACHE_DIR"]

    def cold(u: str) -> float:
        # A fresh cache folder: the report is computed and rendered from scratch.
        with tempfile.TemporaryDirectory() as tmp:
            b.app.config["PDF_CACHE_DIR"] = tmp
            t0 = time.perf_counter()
            resp = c.get(u)
            ms = (time.perf_counter() - t0) * 1000
            b.app.config["PDF_CACHE_DIR"] = original
        assert resp.status_code == 200, f"{u}: {resp.status_code}"
        return ms

    cold(url)  # warm-up: fonts found, templates compiled
    samples = sorted(cold(url) for _ in range(3))
    b.record("assessment_city_report_ms", round(statistics.median(samples), 1), "ms (median of 3, empty cache)",
             target=5000, detail={"samples": [round(s, 1) for s in samples], "url": url})
    c.get(url)  # fill the real cache
    b.get_p95("assessment_city_report_cached_ms", c, url, target_ms=200, repeat=20)

    with b.app.app_context():
        res = services.results(year)
        district_id = res.ranked[0].id
    b.record("assessment_district_summary_cold_ms", round(cold(f"/assessment/districts/{district_id}/summary.pdf?year={year}"), 1),
             "ms (empty cache, results computed)")

    with b.app.test_request_context():
        res = services.results(year)
        row = res.ranked[0]
        html = render_template("assessment/pdf/district.html", res=res, row=row, year=year,
                               region=type("R", (), {"name": row.name})(), title=f"{row.name} {year} 年度志愿服务工作考核摘要",
                               generated_at=local_now(), office_name=b.app.config["OFFICE_NAME"])
        # The same page with every Chinese character replaced by a Latin letter in Latin faces: what the
        # Chinese fonts alone cost.
        same_layout = re.sub(r"[\u3000-\u9fff\uff00-\uffef]", "a", html).replace(
            '"AR PL UMing CN", "AR PL UMing TW", serif', '"DejaVu Serif", serif').replace(
            '"AR PL UMing CN", serif', '"DejaVu Serif", serif').replace('"WenQuanYi Zen Hei", sans-serif', '"DejaVu Sans", sans-serif')

        def summary() -> float:
            t0 = time.perf_counter()
            render_html_to_pdf(html)
            return (time.perf_counter() - t0) * 1000

        def latin_layout() -> float:
            t0 = time.perf_counter()
            render_html_to_pdf(same_layout)
            return (time.perf_counter() - t0) * 1000

        def latin() -> float:
            t0 = time.perf_counter()
            render_html_to_pdf(LATIN % LATIN_P)
            return (time.perf_counter() - t0) * 1000

        for _ in range(2):
            summary(), latin(), latin_layout()
        runs = [(latin(), summary(), latin_layout()) for _ in range(10)]  # interleaved: the same machine load
    lat = statistics.median(r[0] for r in runs)
    summ = statistics.median(r[1] for r in runs)
    same = statistics.median(r[2] for r in runs)
    b.record("assessment_district_summary_render_ms", round(summ, 1), "ms (median of 10)")
    b.record("assessment_latin_one_page_ms", round(lat, 1), "ms (median of 10, bench_pdf's Latin page)")
    b.record("assessment_summary_to_latin_ratio", round(summ / lat, 2), "×", target=2.0)
    b.record("assessment_summary_same_layout_latin_ms", round(same, 1), "ms (median of 10)")
    b.record("assessment_summary_to_same_layout_latin_ratio", round(summ / same, 2), "×", target=2.0)
