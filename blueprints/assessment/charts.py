"""Charts drawn on the server as SVG (no JavaScript, same markup on the page and in the PDF)."""
from __future__ import annotations

from decimal import Decimal
from html import escape

from markupsafe import Markup

TONE_FILL = {"green": "#2e7d32", "blue": "#1565c0", "amber": "#ef8f00", "red": "#c62828", "neutral": "#78909c",
             "prev": "#b0bec5"}
FONT = "WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif"


def _num(v: Decimal | float | int) -> str:
    return f"{Decimal(v):.2f}".rstrip("0").rstrip(".")


def bar_chart(items: list[tuple[str, Decimal, str]], max_value: Decimal, title: str = "", width: int = 640) -> Markup:
    """Horizontal bars: (label, value, tone) per row, scaled to max_value."""
    row_h, left, right, top = 26, 96, 60, 26 if title else 6
    height = top + row_h * len(items) + 8
    span = width - left - right
    max_value = max_value or Decimal(1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="13">']
    if title:
        out.append(f'<text x="0" y="16" font-weight="bold" fill="#222">{escape(title)}</text>')
    for i, (label, value, tone) in enumerate(items):
        y = top + i * row_h
        w = max(0.0, float(min(Decimal(value), max_value) / max_value) * span)
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" fill="#222">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{span}" height="18" fill="#eceff1"/>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="18" fill="{TONE_FILL.get(tone, "#78909c")}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 17}" fill="#222">{_num(value)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def compare_chart(items: list[tuple[str, Decimal, Decimal | None]], max_value: Decimal, year: int,
                  width: int = 640) -> Markup:
    """This year against the previous year per district: two bars each, with a legend."""
    row_h, left, right, top = 40, 96, 60, 28
    height = top + row_h * len(items) + 6
    span = width - left - right
    max_value = max_value or Decimal(1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{year} 年与 {year - 1} 年得分对比" font-family="{FONT}" font-size="13">',
           f'<rect x="{left}" y="6" width="12" height="12" fill="{TONE_FILL["blue"]}"/>'
           f'<text x="{left + 18}" y="16" fill="#222">{year} 年</text>',
           f'<rect x="{left + 90}" y="6" width="12" height="12" fill="{TONE_FILL["prev"]}"/>'
           f'<text x="{left + 108}" y="16" fill="#222">{year - 1} 年</text>']
    for i, (label, now, prev) in enumerate(items):
        y = top + i * row_h
        out.append(f'<text x="{left - 8}" y="{y + 22}" text-anchor="end" fill="#222">{escape(label)}</text>')
        for j, (v, fill) in enumerate(((now, TONE_FILL["blue"]), (prev, TONE_FILL["prev"]))):
            yy = y + 4 + j * 16
            if v is None:
                out.append(f'<text x="{left + 4}" y="{yy + 12}" fill="#777" font-size="11">无数据</text>')
                continue
            w = max(0.0, float(min(Decimal(v), max_value) / max_value) * span)
            out.append(f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="14" fill="{fill}"/>')
            out.append(f'<text x="{left + w + 6:.1f}" y="{yy + 12}" fill="#222" font-size="11">{_num(v)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
