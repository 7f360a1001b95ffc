from __future__ import annotations

import base64
import io
import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from audit.reporters import charts

SVG = "{http://www.w3.org/2000/svg}"

GROUPS = [
    {"group": "F", "n": 400, "value": 0.52, "ci_low": 0.47, "ci_high": 0.57, "eligible": True},
    {"group": "上海", "n": 150, "value": 0.63, "ci_low": 0.55, "ci_high": 0.71},
    {"group": "tiny", "n": 8, "value": 0.9, "ci_low": 0.5, "ci_high": 1.0, "eligible": False},
]
CJK_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Sans SC", "Source Han Sans SC")


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _sample(rows: int = 300, features: int = 12, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "features": [f"feature {i}" for i in range(features)],
        "shap": rng.normal(size=(rows, features)).tolist(),
        "values_scaled": rng.uniform(size=(rows, features)).tolist(),
    }


def _group(root: ET.Element, cls: str) -> ET.Element:
    found = [e for e in root.iter() if e.get("class") == cls]
    assert len(found) == 1, cls
    return found[0]


def _x_scale(root: ET.Element):
    """value -> x, read back from the positions and texts of the x tick labels."""
    texts = list(_group(root, "chart-xlabels"))[:-1]  # the last one is the axis title
    ticks = [(float(t.text.replace("\u2212", "-")), float(t.get("x"))) for t in texts]
    assert len(ticks) >= 3
    (v0, x0), (v1, x1) = ticks[0], ticks[-1]
    scale = (x1 - x0) / (v1 - v0)
    for v, x in ticks:  # evenly spaced: the labels describe one linear scale
        assert x == pytest.approx(x0 + (v - v0) * scale, abs=0.02)
    return lambda v: x0 + (v - v0) * scale


def _rects(el: ET.Element) -> list[tuple[float, float, float, float]]:
    return [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in el.iter(f"{SVG}rect")]


def _path_numbers(d: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?[0-9.]+", d)]


ALL_KINDS = {
    "group_rates": (charts.group_rates, (GROUPS,), {"metric": "selection rate", "threshold": 0.6}),
    "shap_bar": (charts.shap_bar, ({"tenure": 0.4, "charges": 0.2, "contract": 0.05},), {}),
    "shap_beeswarm": (charts.shap_beeswarm, (_sample(),), {}),
    "segment_composition": (charts.segment_composition, ({"s1": {"F": 0.4, "上海": 0.6}, "s2": {"F": 0.7, "上海": 0.3}},), {}),
    "exposure": (charts.exposure, ({"F": {"exposure_share": 0.4, "relevance_share": 0.5}, "上海": {"exposure_share": 0.6, "relevance_share": 0.5}},), {}),
}


def test_group_rates_is_clean_inline_svg():
    cs = charts.ChartSet("t")
    svg = cs.draw("Group <rates> & intervals", charts.group_rates, GROUPS, metric="selection rate", threshold=0.6)
    root = _parse(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("class") == "chart" and root.get("role") == "img"
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert root.get("aria-label") == "Group <rates> & intervals"
    assert root[0].tag == f"{SVG}title" and root[0].text == "Group <rates> & intervals"
    assert "<?xml" not in svg and "<!--" not in svg and "<style" not in svg and "<metadata" not in svg
    assert "&lt;rates&gt; &amp; intervals" in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("t1-") for i in ids)
    # every internal reference points at an id of this chart
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert set(refs) <= set(ids)
    w, h = charts.svg_size_pt(svg)
    assert w == pytest.approx(453.6) and h > 50
    assert root.get("width") == "453.6pt" and root.get("viewBox") == f"0 0 453.6 {root.get('height')[:-2]}"


def test_two_charts_never_share_ids():
    cs = charts.ChartSet()
    a = cs.draw("a", charts.group_rates, GROUPS)
    b = cs.draw("b", charts.group_rates, GROUPS)
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_every_chart_is_small_clean_svg_with_real_text(kind):
    fn, args, kwargs = ALL_KINDS[kind]
    svg = charts.ChartSet("k").draw(kind, fn, *args, **kwargs)
    root = _parse(svg)
    tags = {e.tag.removeprefix(SVG) for e in root.iter()}
    assert tags <= {"svg", "title", "g", "path", "rect", "circle", "text", "image"}, tags
    assert sum(1 for _ in root.iter()) < 120  # a few dozen elements, not thousands of glyph paths
    assert re.findall(r'\bid="([^"]+)"', svg) == ["k1-chart"]
    assert "xlink" not in svg  # WeasyPrint and browsers read plain href
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts and all(texts)


def test_text_as_paths_is_kept_but_text_stays_text():
    """Glyph outlines are gone: both modes give the same SVG with real <text> elements."""
    data = {"tenure": 0.4, "charges": 0.2}
    as_paths = charts.ChartSet(text_as_paths=True).draw("x", charts.shap_bar, data)
    as_text = charts.ChartSet(text_as_paths=False).draw("x", charts.shap_bar, data)
    assert as_paths == as_text
    labels = [t.text for t in _parse(as_text).iter(f"{SVG}text")]
    assert "tenure" in labels and "charges" in labels
    assert "<use" not in as_text and "<defs" not in as_text


def test_cjk_label_is_text_with_a_cjk_font_in_the_stack():
    svg = charts.ChartSet().draw("x", charts.group_rates, [{"group": "上海", "value": 0.5, "n": 12}])
    root = _parse(svg)
    assert "上海 (n=12)" in [t.text for t in root.iter(f"{SVG}text")]
    stack = root.get("font-family").split(",")
    assert stack == list(charts.font_families())
    assert stack[0] == "DejaVu Sans" and stack[-1] == "sans-serif"
    assert any(f in stack for f in CJK_FAMILIES)
    assert all(f == f.strip() and "'" not in f and '"' not in f for f in stack)  # WeasyPrint splits on "," only


def test_pdf_of_a_cjk_chart_embeds_a_cjk_font():
    pypdf = pytest.importorskip("pypdf")
    from audit.reporters import pdf

    if not pdf.cjk_font_available():
        pytest.skip("no CJK font installed (fc-list :lang=zh is empty)")
    svg = charts.ChartSet().draw("x", charts.group_rates, [{"group": "上海", "value": 0.5}])
    reader = pypdf.PdfReader(io.BytesIO(_weasy_pdf(svg)))
    fonts = {str(f.get_object()["/BaseFont"]).replace("-", "") for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any(c.replace(" ", "") in f for c in CJK_FAMILIES for f in fonts), fonts


def test_beeswarm_rasterises_the_point_cloud():
    from PIL import Image

    svg = charts.shap_beeswarm(_sample(rows=1000, features=3))
    assert svg is not None and "data:image/png;base64," in svg
    assert len(svg) < 120_000
    root = _parse(svg)
    images = list(root.iter(f"{SVG}image"))
    assert len(images) == 1
    img = images[0]
    png = Image.open(io.BytesIO(base64.b64decode(img.get("href").split(",", 1)[1])))
    assert png.format == "PNG" and png.mode == "P"
    assert len(png.getcolors()) <= 32  # a small palette keeps the PNG small
    dpi = png.width / (float(img.get("width")) / 72)
    assert 100 <= dpi <= 160
    assert png.height / (float(img.get("height")) / 72) == pytest.approx(dpi, rel=0.02)
    # the image covers the plot area: its left edge is the left spine, the zero line is inside it
    zero = _path_numbers(_group(root, "chart-zero").get("d"))[0]
    assert float(img.get("x")) < zero < float(img.get("x")) + float(img.get("width"))
    assert _x_scale(root)(0.0) == pytest.approx(zero, abs=0.02)
    # colour bar from low to high
    bar = _group(root, "chart-colorbar")
    assert [t.text for t in bar.iter(f"{SVG}text")] == ["high", "low", "feature value"]
    # without feature values there is no colour bar, but still a chart
    plain = charts.shap_beeswarm({"features": ["a"], "shap": [[0.1], [0.2]]})
    assert plain is not None and "chart-colorbar" not in plain and "data:image/png" in plain


def test_beeswarm_rows_are_ordered_by_mean_absolute_shap():
    sample = {"features": ["small", "large", "mid"], "shap": [[0.1, -3.0, 1.0], [-0.1, 3.0, -1.0]]}
    root = _parse(charts.shap_beeswarm(sample))
    assert [t.text for t in _group(root, "chart-ylabels")] == ["large", "mid", "small"]


def test_beeswarm_caps_the_rows_it_draws(monkeypatch):
    monkeypatch.setattr(charts, "MAX_BEESWARM_ROWS", 50)
    a = charts.shap_beeswarm(_sample(rows=400, features=2))
    monkeypatch.setattr(charts, "MAX_BEESWARM_ROWS", 400)
    b = charts.shap_beeswarm(_sample(rows=400, features=2))
    assert len(a) < len(b)  # fewer dots, smaller PNG


def test_shap_bar_widths_are_proportional_and_largest_first():
    importance = {"a": 0.1, "b": -0.5, "c": 0.25, "d": 0.0, "e": "n/a"}
    root = _parse(charts.shap_bar(importance))
    assert [t.text for t in _group(root, "chart-ylabels")] == ["b", "c", "a", "d"]
    bars = _rects(_group(root, "chart-bars"))
    assert [y for _x, y, _w, _h in bars] == sorted(y for _x, y, _w, _h in bars)  # top to bottom
    widths = [w for _x, _y, w, _h in bars]
    assert widths == sorted(widths, reverse=True)
    x = _x_scale(root)
    for (left, _y, w, _h), value in zip(bars, [0.5, 0.25, 0.1, 0.0]):
        assert left == pytest.approx(x(0.0), abs=0.02)
        assert w == pytest.approx(x(value) - x(0.0), abs=0.02)
    assert widths[0] / widths[1] == pytest.approx(2.0, rel=1e-3) and widths[1] / widths[2] == pytest.approx(2.5, rel=1e-3)


def test_shap_bar_keeps_the_top_features():
    root = _parse(charts.shap_bar({f"f{i}": i for i in range(30)}, top=5))
    assert [t.text for t in _group(root, "chart-ylabels")] == ["f29", "f28", "f27", "f26", "f25"]


def test_group_rates_geometry():
    root = _parse(charts.group_rates(GROUPS, threshold=0.6, threshold_label="line"))
    x = _x_scale(root)
    dots = list(_group(root, "chart-dots"))
    cxs = [float(c.get("cx")) for c in dots]
    assert cxs == sorted(cxs)  # values 0.52 < 0.63 < 0.9
    for cx, g in zip(cxs, GROUPS):
        assert cx == pytest.approx(x(g["value"]), abs=0.02)
    line = _path_numbers(_group(root, "chart-threshold").get("d"))
    assert line[0] == pytest.approx(x(0.6), abs=0.02)
    assert cxs[0] < line[0] < cxs[1]
    # error bars span ci_low..ci_high on the same scale, at the height of their dot
    for path, dot, g in zip(_group(root, "chart-ci"), dots, GROUPS):
        x0, y0, x1 = _path_numbers(path.get("d"))[:3]
        assert (x0, x1) == (pytest.approx(x(g["ci_low"]), abs=0.02), pytest.approx(x(g["ci_high"]), abs=0.02))
        assert y0 == float(dot.get("cy"))
    # the ineligible group is hollow and grey, the others solid
    assert dots[2].get("fill") == "#ffffff" and dots[2].get("stroke") == charts._MUTED
    assert dots[0].get("fill") == dots[0].get("stroke") == charts._ACCENT
    legend = [t.text for t in _group(root, "chart-legend").iter(f"{SVG}text")]
    assert legend == ["line (0.6)"]
    assert [t.text for t in _group(root, "chart-ylabels")] == ["F (n=400)", "上海 (n=150)", "tiny (n=8)"]


def test_group_rates_without_interval_or_threshold():
    root = _parse(charts.group_rates([{"group": "a", "value": 0.3}, {"group": "b", "value": 0.4}]))
    assert len(list(_group(root, "chart-ci"))) == 0
    assert not [e for e in root.iter() if e.get("class") in ("chart-threshold", "chart-legend")]
    cxs = [float(c.get("cx")) for c in _group(root, "chart-dots")]
    assert cxs[0] < cxs[1]


def test_segment_composition_stacks_sum_to_the_share():
    composition = {"full": {"F": 0.25, "M": 0.75}, "part": {"F": 0.5, "M": 0.3}, "one": {"M": 1.0}}
    root = _parse(charts.segment_composition(composition))
    x = _x_scale(root)
    series = [_rects(g) for g in root.iter() if g.get("class") == "chart-series"]
    assert len(series) == 2
    rows: dict[float, list[tuple[float, float]]] = {}
    for rects in series:
        for left, y, w, _h in rects:
            rows.setdefault(y, []).append((left, w))
    assert len(rows) == 3
    for (_y, bars), total in zip(sorted(rows.items()), [1.0, 0.8, 1.0]):
        bars.sort()
        assert bars[0][0] == pytest.approx(x(0.0), abs=0.02)
        for (left, w), (nxt, _w) in itertools.pairwise(bars):
            assert left + w == pytest.approx(nxt, abs=0.02)  # stacked edge to edge
        assert sum(w for _l, w in bars) == pytest.approx(x(total) - x(0.0), abs=0.05)
    # the F share of "full" is a quarter of the axis from 0 to 1
    assert series[0][0][2] == pytest.approx((x(1.0) - x(0.0)) / 4, abs=0.02)
    legend = [t.text for t in _group(root, "chart-legend").iter(f"{SVG}text")]
    assert legend == ["F", "M"]


def test_exposure_bars_pair_up_per_group():
    data = {"F": {"exposure_share": 0.2, "relevance_share": 0.4}, "M": {"exposure_share": 0.8, "relevance_share": 0.6}}
    root = _parse(charts.exposure(data))
    x = _x_scale(root)
    exposure_bars, relevance_bars = (_rects(g) for g in root.iter() if g.get("class") == "chart-series")
    for (ex, ey, ew, eh), (rx, ry, rw, rh), (e, r) in zip(exposure_bars, relevance_bars, [(0.2, 0.4), (0.8, 0.6)]):
        assert ex == rx == pytest.approx(x(0.0), abs=0.02)
        assert ew == pytest.approx(x(e) - x(0.0), abs=0.02) and rw == pytest.approx(x(r) - x(0.0), abs=0.02)
        assert ey + eh <= ry + 0.01  # exposure sits just above relevance
    assert exposure_bars[0][1] < exposure_bars[1][1]
    legend = [t.text for t in _group(root, "chart-legend").iter(f"{SVG}text")]
    assert legend == ["exposure share", "relevance share"]


def test_user_text_is_escaped():
    nasty = 'a<b & "c"'
    svgs = [
        charts.ChartSet().draw(nasty, charts.group_rates, [{"group": nasty, "value": 0.5}], metric=nasty, threshold=0.4, threshold_label=nasty),
        charts.shap_bar({nasty: 1.0}),
        charts.shap_beeswarm({"features": [nasty], "shap": [[0.1], [0.2]]}),
        charts.segment_composition({nasty: {nasty: 1.0}}),
        charts.exposure({nasty: {"exposure_share": 0.5}}),
    ]
    for svg in svgs:
        assert "<b " not in svg and "<b&" not in svg and '"c"' not in svg
        root = _parse(svg)
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert any(t is not None and t.startswith(nasty) for t in texts), texts
    assert _parse(svgs[0]).get("aria-label") == nasty
    # characters XML cannot carry are dropped rather than breaking the document
    _parse(charts.shap_bar({"bell\x07": 1.0}))


def test_long_labels_are_cut_to_fit_the_margin():
    svg = charts.shap_bar({"上海" * 30: 1.0, "b": 0.5})
    root = _parse(svg)
    label = next(iter(_group(root, "chart-ylabels"))).text
    assert label.endswith("…") and len(label) < 28
    spine = _path_numbers(root.find(f"{SVG}path[@stroke='{charts._INK}']").get("d"))[0]
    assert spine <= 0.45 * 453.6 + 0.01


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_output_is_deterministic(kind):
    fn, args, kwargs = ALL_KINDS[kind]
    assert fn(*args, **kwargs) == fn(*args, **kwargs)


def test_beeswarm_seed_moves_the_jitter():
    sample = _sample(rows=50, features=2)
    assert charts.shap_beeswarm(sample, seed=1) == charts.shap_beeswarm(sample, seed=1)
    assert charts.shap_beeswarm(sample, seed=1) != charts.shap_beeswarm(sample, seed=2)


def test_nice_ticks():
    assert charts._ticks(0.0, 1.05, 9) == ([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], 1)
    assert charts._ticks(-3.9, 4.1, 9) == ([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0], 0)
    assert charts._ticks(0.0, 0.37, 9) == ([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35], 2)
    assert charts._tick_label(-2.0, 0) == "\u22122" and charts._tick_label(-0.0, 1) == "0.0"


def _weasy_pdf(svg: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)  # as audit.reporters.pdf does
    return HTML(string="<html><body>" + svg + "</body></html>", url_fetcher=fetcher).write_pdf()


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_weasyprint_lays_out_each_chart(kind):
    pypdf = pytest.importorskip("pypdf")
    fn, args, kwargs = ALL_KINDS[kind]
    out = _weasy_pdf(charts.ChartSet("pdf").draw(kind, fn, *args, **kwargs))
    page = pypdf.PdfReader(io.BytesIO(out)).pages[0]
    images = list(page.images)
    if kind == "shap_beeswarm":
        assert images, "the beeswarm's PNG was not drawn (href not read?)"
    else:
        assert not images


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
    assert charts.group_rates([{"group": "same", "value": 0.0}]) is not None  # a zero-width range still gets an axis
    assert charts.shap_bar({"zero": 0.0}) is not None
    nan_colour = {"features": ["a"], "shap": [[0.1], [0.2]], "values_scaled": [[float("nan")], [0.5]]}
    assert charts.shap_beeswarm(nan_colour) is not None


def test_charts_do_not_load_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys; from audit.reporters import charts; "
        "charts.shap_beeswarm({'features': ['a'], 'shap': [[0.1], [0.2]]}); charts.shap_bar({'a': 1}); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
