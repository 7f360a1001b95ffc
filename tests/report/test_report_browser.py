"""Open the HTML report in headless Chromium and watch what it does.

Uses the DevTools protocol over a pipe (see cdp.py): console errors, CSP violations,
every network request, and the rendered size of every chart.
"""

from __future__ import annotations

import pytest

from .cdp import Browser, find_chromium

pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()

CHART_BOXES = """
JSON.stringify(Array.from(document.querySelectorAll('svg.chart, img, svg image')).map(e => {
  const r = e.getBoundingClientRect();
  const s = getComputedStyle(e);
  return {tag: e.tagName, label: e.getAttribute('aria-label') || '', w: r.width, h: r.height,
          visible: s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0};
}))
"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (run scripts/setup-system.sh as root to install it)")
    b = Browser(CHROMIUM)
    yield b
    b.close()


def _external(requests: list[str], page_url: str) -> list[str]:
    return [u for u in requests if u != page_url and not u.startswith("data:")]


def test_report_opens_offline_without_errors(browser, html_file, report_dir):
    session, report = browser.open(html_file)
    assert report.errors == [], report.errors
    assert _external(report.requests, report.url) == []
    assert report.failed_requests == []
    title = browser.evaluate(session, "document.title")
    assert title.startswith("Compliance audit report")
    browser.screenshot(session, report_dir / "browser.png")


def test_every_chart_is_visible(browser, html_file, html_text):
    import json

    session, _report = browser.open(html_file)
    boxes = json.loads(browser.evaluate(session, CHART_BOXES))
    charts = [b for b in boxes if b["tag"].lower() == "svg"]
    assert len(charts) == html_text.count('class="chart"')
    assert charts, "the sample report has charts"
    for b in boxes:
        assert b["visible"] and b["w"] > 50 and b["h"] > 20, b
    # the beeswarm's dense point cloud is an embedded raster inside the SVG
    assert any(b["tag"].lower() == "image" for b in boxes)


def test_harness_catches_network_and_csp_problems(browser, html_text, tmp_path):
    """Negative control: the same checks flag a page that reaches out."""
    bad = html_text.replace("</body>", '<img src="http://127.0.0.1:9/tracker.png" alt=""></body>')
    path = tmp_path / "bad.html"
    path.write_text(bad, encoding="utf-8")
    _session, report = browser.open(path)
    assert _external(report.requests, report.url) == ["http://127.0.0.1:9/tracker.png"]
    assert any("Content Security Policy" in e for e in report.errors)

