"""QR codes drawn on the server (segno: pure Python, no network), embedded as data: URIs so that
WeasyPrint's restricted fetcher draws them without fetching anything."""
from __future__ import annotations

import segno

# Level M (15 % recovery) survives a stamp or a fold on paper; boost_error is off so the level, and
# with it the matrix, depends only on the text.
ERROR_LEVEL = "m"


def qr_code(text: str) -> segno.QRCode:
    return segno.make(text, error=ERROR_LEVEL, micro=False, boost_error=False)


def qr_svg_data_uri(text: str, border: int = 2) -> str:
    """An SVG data: URI of the QR code, sized by CSS (no width/height of its own)."""
    return qr_code(text).svg_data_uri(border=border, omitsize=True)
