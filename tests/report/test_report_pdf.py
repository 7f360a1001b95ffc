from __future__ import annotations

import io
import re

import numpy as np
import pytest

from audit.reporters import html, pdf

from .sample import CHINESE_EXAMPLE

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def reader(pdf_bytes):
    return pypdf.PdfReader(io.BytesIO(pdf_bytes))


class _Pages:
    """Text of PDF pages, extracted on first use (pypdf extraction is the slow part)."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.cache: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.reader.pages)

    def __getitem__(self, i: int) -> str:
        i = i % len(self)
        if i not in self.cache:
            self.cache[i] = self.reader.pages[i].extract_text() or ""
        return self.cache[i]


@pytest.fixture(scope="module")
def pages_text(reader) -> _Pages:
    return _Pages(reader)


def _flat_outline(reader, items=None, depth=0):
    for it in reader.outline if items is None else items:
        if isinstance(it, list):
            yield from _flat_outline(reader, it, depth + 1)
        else:
            yield depth, it.title, reader.get_destination_page_number(it)


def _section_pages(reader, title: str) -> range:
    """Pages from the bookmark ``title`` up to the next top-level bookmark."""
    outline = list(_flat_outline(reader))
    for k, (depth, t, page) in enumerate(outline):
        if t == title:
            later = [p for d, _t, p in outline[k + 1:] if d <= depth]
            return range(page, later[0] + 1 if later else len(reader.pages))
    raise AssertionError(f"no bookmark {title!r}")


def test_pdf_is_a_pdf(pdf_bytes, reader):
    assert pdf_bytes.startswith(b"%PDF-")
    assert len(reader.pages) > 5
    assert reader.metadata.title.startswith("Compliance audit report")


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_pdf_contains_verdict_signoff_and_sections(reader, pages_text):
    cover = pages_text[0]
    assert "Gate verdict: FAIL" in cover
    for label in ("Prepared by", "Reviewed by", "Approved by", "Sign-off"):
        assert label in cover
    # every instrument the findings and attestations refer to has its section, with its title
    regs = _squash("\n".join(pages_text[i] for i in _section_pages(reader, "Findings by regulation")))
    for name, title, _pattern in html.INSTRUMENTS:
        assert f"{name} {_squash(title)}" in regs or (name in regs and _squash(title) in regs), name
    for ref in ("GDPR Art. 5(1)(c)", "PIPL Art. 24", "Cal. Civ. Code 1798.140(ae)", "Reg B 1002.9(b)(2)", "29 CFR 1607.4(D)"):
        assert ref in regs, ref
    evidence = "\n".join(pages_text[i] for i in _section_pages(reader, "Evidence and verification"))
    assert "crm-audit verify DIR" in evidence


def test_pdf_bookmarks_follow_the_sections(reader):
    outline = list(_flat_outline(reader))
    titles = [t for _d, t, _p in outline]
    for expected in ("Cover", "Contents", "Executive summary", "Findings by regulation", "Manual attestations", "Datasets", "Models", "Waivers", "Methodology and limitations", "Evidence and verification"):
        assert expected in titles, titles
    # the instruments are nested under "Findings by regulation"
    nested = [t for d, t, _p in outline if d == 1]
    for name, _title, _pattern in html.INSTRUMENTS:
        assert any(t.startswith(name) for t in nested), (name, nested)


def test_pdf_page_numbers_and_contents(pages_text):
    n = len(pages_text)
    assert f"Page 1 of {n}" in pages_text[0]
    assert f"Page {n} of {n}" in pages_text[-1]
    contents = pages_text[1]
    assert contents.lstrip().startswith("Contents") or "Contents" in contents.splitlines()[1:3]
    m = re.search(r"Executive summary[ .]*?(\d+)\s*$", contents, re.MULTILINE)
    assert m, contents
    page = int(m.group(1))
    assert "Executive summary" in pages_text[page - 1]
    m = re.search(r"Waivers[ .]*?(\d+)\s*$", contents, re.MULTILINE)
    assert m and "Waivers" in pages_text[int(m.group(1)) - 1]


def test_pdf_prints_chinese(reader, pages_text):
    if not pdf.cjk_font_available():
        pytest.skip("no CJK font installed (fc-list :lang=zh is empty); the PDF carries a limitation note instead")
    pages = [*_section_pages(reader, "Datasets"), *_section_pages(reader, "Models")]
    text = "".join(pages_text[i] for i in pages).replace(" ", "")
    assert CHINESE_EXAMPLE.replace(" ", "") in text
    assert "上海" in text


def test_cjk_font_missing_adds_a_limitation(monkeypatch, small_result):
    monkeypatch.setattr(pdf, "cjk_font_available", lambda: False)
    doc = pdf.render_html(small_result)
    assert "Chinese characters may not render" in doc
    monkeypatch.setattr(pdf, "cjk_font_available", lambda: True)
    assert "Chinese characters may not render" not in pdf.render_html(small_result)


def test_first_page_is_not_blank(pdf_bytes, report_dir):
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        image = doc[0].render(scale=1.0).to_pil().convert("L")
    finally:
        doc.close()
    image.save(report_dir / "page1.png")
    pixels = np.asarray(image, dtype=float)
    assert pixels.std() > 10  # text and rules on white, not an empty page
    assert (pixels < 128).mean() > 0.01  # a fair amount of ink


def test_pdf_fetches_nothing(monkeypatch, tmp_path):
    """WeasyPrint may only read data: URLs: a file or network reference is not loaded."""
    from PIL import Image

    local = tmp_path / "pixel.png"
    Image.new("RGB", (4, 4), "red").save(local)
    doc = f'<html><body><p>x</p><img src="{local.as_uri()}"><img src="http://127.0.0.1:9/x.png"></body></html>'
    monkeypatch.setattr(pdf, "render_html", lambda result: doc)
    out = pdf.render(None)  # type: ignore[arg-type]
    reader = pypdf.PdfReader(io.BytesIO(out))
    assert not list(reader.pages[0].images)
