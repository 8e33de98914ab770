"""PDF engine (issue #3): a one-page Chinese PDF against a one-page Latin PDF in the same run."""
from __future__ import annotations

LATIN = """<html><head><style>@page{size:A4;margin:20mm} body{font-family:'DejaVu Serif',serif;font-size:11pt}
h1{font-family:'DejaVu Sans',sans-serif}</style></head><body><h1>Annual volunteer service report</h1>%s</body></html>"""
CJK = """<html><head><style>@page{size:A4;margin:20mm} body{font-family:'AR PL UMing CN',serif;font-size:11pt}
h1{font-family:'WenQuanYi Zen Hei',sans-serif}</style></head><body><h1>年度志愿服务工作报告</h1>%s</body></html>"""
LATIN_P = "<p>Volunteers of the districts served the community in schools, parks and stations, recording hours.</p>" * 12
CJK_P = "<p>各县（市、区）志愿者深入社区、学校、公园和志愿服务站开展学雷锋志愿服务活动，服务时长记录及时、完整、准确。</p>" * 12


def run(b) -> None:
    from core.pdf import render_html_to_pdf

    import statistics
    import time

    def once(html: str) -> float:
        t0 = time.perf_counter()
        render_html_to_pdf(html)
        return (time.perf_counter() - t0) * 1000

    with b.app.test_request_context():
        for _ in range(3):  # warm-up: fonts found, caches filled
            once(LATIN % LATIN_P), once(CJK % CJK_P)
        # Interleaved, so that both see the same machine load.
        pairs = [(once(LATIN % LATIN_P), once(CJK % CJK_P)) for _ in range(25)]
    latin = statistics.median(p[0] for p in pairs)
    cjk = statistics.median(p[1] for p in pairs)
    b.record("pdf_one_page_latin_ms", round(latin, 1), "ms (median of 25)")
    b.record("pdf_one_page_chinese_ms", round(cjk, 1), "ms (median of 25)")
    b.record("pdf_chinese_to_latin_ratio", round(cjk / latin, 2), "×", target=2.0)
    c = b.client("city_admin")
    b.get_p95("pdf_regions_report_ms", c, "/regions/report.pdf", repeat=5)
