from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from audit.reporters import charts

GROUPS = [
    {"group": "F", "n": 400, "value": 0.52, "ci_low": 0.47, "ci_high": 0.57, "eligible": True},
    {"group": "上海", "n": 150, "value": 0.63, "ci_low": 0.55, "ci_high": 0.71},
    {"group": "tiny", "n": 8, "value": 0.9, "ci_low": 0.5, "ci_high": 1.0, "eligible": False},
]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_group_rates_is_clean_inline_svg():
    cs = charts.ChartSet("t")
    svg = cs.draw("Group <rates> & intervals", charts.group_rates, GROUPS, metric="selection rate", threshold=0.6)
    root = _parse(svg)  # well-formed XML
    assert root.tag.endswith("svg") and root.get("class") == "chart" and root.get("role") == "img"
    assert root.get("aria-label") == "Group <rates> & intervals"
    assert "<?xml" not in svg and "<!--" not in svg and "<style" not in svg and "<metadata" not in svg
    assert "&lt;rates&gt; &amp; intervals" in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("t1-") for i in ids)
    # every internal reference points at an id of this chart
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert set(refs) <= set(ids)
    w, h = charts.svg_size_pt(svg)
    assert 300 < w < 480 and h > 50


def test_two_charts_never_share_ids():
    cs = charts.ChartSet()
    a = cs.draw("a", charts.group_rates, GROUPS)
    b = cs.draw("b", charts.group_rates, GROUPS)
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b


def test_text_mode_for_pdf_keeps_text():
    as_paths = charts.ChartSet(text_as_paths=True).draw("x", charts.shap_bar, {"tenure": 0.4, "charges": 0.2})
    as_text = charts.ChartSet(text_as_paths=False).draw("x", charts.shap_bar, {"tenure": 0.4, "charges": 0.2})
    assert "<text" not in as_paths and "tenure" not in as_paths
    assert "<text" in as_text and "tenure" in as_text


def test_beeswarm_rasterises_the_point_cloud():
    rng = np.random.default_rng(0)
    sample = {"features": ["a", "b", "c"], "shap": rng.normal(size=(1000, 3)).tolist(), "values_scaled": rng.uniform(size=(1000, 3)).tolist()}
    svg = charts.shap_beeswarm(sample)
    assert svg is not None and "data:image/png;base64," in svg
    assert len(svg) < 400_000
    # without feature values there is no colour bar, but still a chart
    assert charts.shap_beeswarm({"features": ["a"], "shap": [[0.1], [0.2]]}) is not None


@pytest.mark.parametrize(
    ("fn", "bad"),
    [
        (charts.group_rates, []),
        (charts.group_rates, [{"group": "a"}, {"value": "x"}, "junk"]),
        (charts.shap_bar, {}),
        (charts.shap_bar, {"a": None, "b": "text"}),
        (charts.shap_bar, "not a mapping"),
        (charts.shap_beeswarm, {"features": ["a", "b"], "shap": [[1.0]]}),
        (charts.shap_beeswarm, {"features": ["a"], "shap": [["x"]]}),
        (charts.shap_beeswarm, None),
        (charts.segment_composition, {"s": "bad"}),
        (charts.segment_composition, {}),
        (charts.exposure, {"g": {"exposure_share": None, "relevance_share": None}}),
        (charts.exposure, ["no"]),
    ],
)
def test_unusable_data_gives_no_chart(fn, bad):
    assert fn(bad) is None


def test_partial_data_still_draws():
    assert charts.group_rates([{"group": "a", "value": 0.3}, {"group": "b", "value": 0.4, "ci_low": None, "ci_high": float("nan")}]) is not None
    assert charts.segment_composition({"s1": {"F": 0.4, "M": 0.6}, "s2": {"F": 1.0}}) is not None
    assert charts.exposure({"F": {"exposure_share": 0.4}}) is not None


def test_cjk_font_is_used_when_installed():
    cjk = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Droid Sans Fallback")
    fams = charts.font_families()
    if not any(f in fams for f in cjk):
        pytest.skip("no CJK font known to matplotlib")
    svg = charts.ChartSet(text_as_paths=True).draw("x", charts.group_rates, [{"group": "上海", "value": 0.5}])
    # the Chinese label is drawn from the CJK font's outlines, not as missing-glyph boxes
    glyph_fonts = {m.split("-")[0] for m in re.findall(r'id="c1-([A-Za-z]+-[0-9a-f]+)"', svg)}
    assert any(f.replace(" ", "") in glyph_fonts for f in cjk), glyph_fonts
