"""report.pdf: the HTML report laid out for print by WeasyPrint.

The PDF is rendered from the same templates as report.html, with print.css added
(A4 pages, running header, page numbers, a contents page with page numbers and PDF
bookmarks). WeasyPrint may only read ``data:`` URLs, so nothing is fetched from disk
or network. When fontconfig knows no Chinese font the report says so in its
limitations, since CJK text would print as empty boxes.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from typing import Any

from audit.core.result import AuditResult
from audit.reporters import html

FILENAME = "report.pdf"
CJK_MISSING_NOTE = (
    "No Chinese (CJK) font was found on the machine that produced this PDF (fontconfig: `fc-list :lang=zh` "
    "is empty), so Chinese characters may not render in it; the HTML report and findings.json carry the "
    "same text. Install a CJK font (for example fonts-wqy-zenhei or fonts-noto-cjk) and render again."
)


@functools.lru_cache(maxsize=1)
def cjk_font_available() -> bool:
    """Whether fontconfig lists at least one font covering Chinese."""
    exe = shutil.which("fc-list")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, ":lang=zh", "family"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and bool(out.stdout.strip())


def pdf_limitations() -> list[str]:
    return [] if cjk_font_available() else [CJK_MISSING_NOTE]


def render_html(result: AuditResult) -> str:
    """The HTML WeasyPrint lays out: the report with print styles and PDF-only notes."""
    return html.render(result, for_pdf=True, extra_limitations=pdf_limitations())


def render(result: AuditResult, **_: Any) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    document = render_html(result)
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    # fontTools logs every subset table at INFO/WARNING; keep the CLI output clean
    noisy = [logging.getLogger(n) for n in ("fontTools", "fontTools.subset", "weasyprint")]
    levels = [lg.level for lg in noisy]
    for lg in noisy:
        lg.setLevel(logging.ERROR)
    try:
        return HTML(string=document, base_url=None, url_fetcher=fetcher).write_pdf(
            pdf_identifier=False,
            custom_metadata=True,
        )
    finally:
        for lg, level in zip(noisy, levels):
            lg.setLevel(level)
