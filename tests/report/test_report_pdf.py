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


def test_every_finding_is_in_the_pdf(result, reader, pages_text):
    """The signing edition is compact, not partial: each finding has its anchor and check id."""
    dests = reader.named_destinations
    findings = result.to_dict()["findings"]
    assert findings
    for i, f in enumerate(findings):
        anchor = f"finding-{i}"
        assert anchor in dests, (anchor, f["check_id"], f["subject"])
        page = reader.get_destination_page_number(dests[anchor])
        near = "".join((pages_text[page] + pages_text[page + 1] if page + 1 < len(pages_text) else pages_text[page]).split())
        assert f["check_id"] in near, (anchor, f["check_id"], page)


def test_pdf_group_tables_carry_values_and_intervals(result, reader, pages_text):
    text = _squash("\n".join(pages_text[i] for i in range(len(pages_text))))
    failing = [f for f in result.to_dict()["findings"] if f["status"] == "fail" and (f.get("evidence") or {}).get("by_group")]
    assert failing
    for f in failing:
        for g in f["evidence"]["by_group"]:
            cell = html._num(g["value"])
            if g.get("ci_low") is not None and g.get("ci_high") is not None:
                cell += f" ({html._num(g['ci_low'])}–{html._num(g['ci_high'])})"
            assert cell in text, (f["check_id"], f["subject"], g)


def test_pdf_is_the_signing_edition_and_says_where_the_rest_is(reader, pages_text, html_text):
    titles = [t for _d, t, _p in _flat_outline(reader)]
    assert "Appendix: index of all findings" not in titles
    assert "Appendix: index of all findings" in html_text
    contents = _squash(pages_text[1])
    assert "edition for signature" in contents and "report.html" in contents and "findings.json" in contents


def test_group_tables_merge_identical_columns_and_keep_small_groups_visible():
    def fv(check, subject, metric, rows, status="fail"):
        f = {"check_id": check, "subject": subject, "status": status, "evidence": {"metric": metric}}
        by = [{"group": g, "n": n, "value": v, "ci_low": lo, "ci_high": hi, "eligible": n >= 30} for g, n, v, lo, hi in rows]
        return {"f": f, "notable": status != "pass", "by_group": by}

    rates = [("F", 400, 0.4, 0.35, 0.45), ("M", 420, 0.6, 0.55, 0.65), ("X", 9, 0.9, 0.5, 1.0)]
    tables = html.group_tables([
        fv("fairness.demographic_parity_difference", "model:m/by:gender", "selection rate", rates),
        fv("fairness.selection_rate_impact_ratio", "model:m/by:gender", "selection rate", rates),
        fv("fairness.equalized_odds_difference", "model:m/by:gender", "false positive rate", [("F", 400, 0.2, 0.1, 0.3), ("M", 420, 0.25, 0.2, 0.3)]),
        fv("fairness.calibration_by_group", "model:m/by:age_band", "ece", [("18-29", 100, 0.1, None, None)]),
        fv("fairness.demographic_parity_difference", "model:m/by:region", "selection rate", [("north", 50, 0.5, 0.4, 0.6)], status="pass"),
        {**fv("perf.by_group", "model:m/by:tier/metric:auc", "auc", [("gold", 80, 0.8, 0.7, 0.9)], status="pass"), "f": {"check_id": "perf.by_group", "subject": "model:m/by:tier/metric:auc", "status": "pass", "category": "performance", "evidence": {"metric": "auc"}}},
    ])
    # passing fairness results have no table; the evaluation per group is shown whatever its status
    assert [t["attribute"] for t in tables] == ["gender", "age_band", "tier"]
    assert tables[0]["columns"][0]["label"] == "demographic parity difference; selection rate impact ratio"
    assert tables[2]["columns"][0]["label"] == "evaluation per group"
    gender = tables[0]
    assert [c["metric"] for c in gender["columns"]] == ["selection rate", "false positive rate"]
    assert [fv["f"]["check_id"] for fv in gender["columns"][0]["checks"]] == ["fairness.demographic_parity_difference", "fairness.selection_rate_impact_ratio"]
    rows = {r["group"]: r for r in gender["rows"]}
    assert set(rows) == {"F", "M", "X"}
    assert rows["X"]["eligible"] is False and rows["X"]["cells"][1] is None  # shown, marked, blank where unmeasured
    assert rows["F"]["cells"][1]["value"] == 0.2


def test_pdf_states_blocking_findings_in_full_and_others_with_their_figures(result, pages_text):
    text = "".join("".join(pages_text[i] for i in range(len(pages_text))).split())
    blocking = set(result.gate.blocking)
    findings = result.to_dict()["findings"]
    full = [f for f in findings if f"{f['check_id']}::{f['subject']}" in blocking]
    brief = [f for f in findings if f["status"] == "fail" and f"{f['check_id']}::{f['subject']}" not in blocking and not f.get("waiver")]
    assert full and brief
    for f in full:
        assert "".join(f["message"].split())[:60] in text, f["check_id"]
    for f in brief:
        figures = f"observed{html._num(f['observed'])},threshold{html._num(f['threshold'])}"
        assert f"{f['check_id']}" in text and figures in text, (f["check_id"], figures)
