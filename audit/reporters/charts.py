"""Static SVG charts for the audit report.

The SVG is written directly as text (no plotting library): a chart costs a few
milliseconds and carries a few dozen elements, which keeps report.html light and
lets WeasyPrint lay the PDF out quickly. The markup is ready for inline use in
HTML: no XML prolog, no metadata, no comments, no global <style>, and the only
id (on the root) is prefixed so several charts can share one document.

Text is real SVG <text> in the font-family stack of ``font_families()``
(DejaVu Sans, then CJK families, then sans-serif). It is therefore drawn with
the fonts of the machine that shows it: Chinese group names in report.html need
a CJK font on the viewing machine, while report.pdf embeds the fonts WeasyPrint
used. Label widths are estimated (east-asian wide characters 1 em, others about
0.62 em) to size the margins, so no font is measured here.

Only the beeswarm's dense point cloud is a raster: a small palette PNG (Pillow)
embedded as a ``data:`` URL, with axes, labels and colour bar in vector SVG.

Each public function takes plain data from findings/extras and returns the
SVG markup, or ``None`` when the data is missing or not usable: a report
must degrade to "no chart" rather than fail on incomplete evidence.
"""

from __future__ import annotations

import base64
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

WIDTH_IN = 6.3  # fits an A4 page with 2 cm margins
WIDTH_PT = WIDTH_IN * 72.0
RASTER_DPI = 144  # only dense point clouds are rasterised (beeswarm); axes and text stay vector
MAX_BEESWARM_ROWS = 300
FONT_PT = 8.0
LEGEND_PT = 7.0
_EM_IN = FONT_PT / 72.0
_INK = "#1b1b1b"
_GRID = "#d9d9d9"
_ACCENT = "#1f5fa8"
_BAD = "#b3261e"
_MUTED = "#9a9a9a"
_SERIES = ("#1f5fa8", "#e08a1e", "#3b8f4a", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#b7950b")

# blue -> grey -> red, like matplotlib's "coolwarm"; few colours keep the embedded PNG small
_RAMP_STOPS = ((59, 76, 192), (141, 176, 254), (221, 221, 221), (244, 154, 123), (180, 4, 38))
_RAMP_STEPS = 9

_FONT_STACK = ("DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Sans SC", "Source Han Sans SC", "sans-serif")
# no quotes and no blanks after commas: WeasyPrint's SVG text splits the attribute on "," and strips quotes only
_FONT_ATTR = ",".join(_FONT_STACK)

_TICK = 3.5  # tick length, pt
_TICK_PAD = 3.5  # gap between tick and its label, pt
_BASELINE = 0.35  # shift from a row's centre to the text baseline, in em


def font_families() -> tuple[str, ...]:
    """The font-family stack of chart text: Latin first, then CJK, then the generic sans-serif."""
    return _FONT_STACK


def _ramp(steps: int = _RAMP_STEPS) -> list[tuple[int, int, int]]:
    """``steps`` colours evenly spaced along the piecewise-linear ramp through ``_RAMP_STOPS``."""
    colours = []
    segments = len(_RAMP_STOPS) - 1
    for i in range(steps):
        t = i / (steps - 1) * segments
        k = min(int(t), segments - 1)
        a, b = _RAMP_STOPS[k], _RAMP_STOPS[k + 1]
        u = t - k
        colours.append((round(a[0] + (b[0] - a[0]) * u), round(a[1] + (b[1] - a[1]) * u), round(a[2] + (b[2] - a[2]) * u)))
    return colours


# ---------------------------------------------------------------------------
# data coercion helpers


def as_number(value: Any) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, bool)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _short(label: Any, width: int = 28) -> str:
    text = str(label)
    return text if len(text) <= width else text[: width - 1] + "…"


def _ems(text: str) -> float:
    """Estimated width of ``text`` in em (DejaVu Sans averages ~0.62 em; CJK glyphs are 1 em)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.62 for ch in text)


def _text_width_in(labels: Iterable[str]) -> float:
    """Width of the longest label in inches at the chart font size."""
    return max((_ems(str(label)) for label in labels), default=0.0) * _EM_IN


def _fit(label: str, width_pt: float, size: float = FONT_PT) -> str:
    """``label``, cut with an ellipsis so its estimated width stays within ``width_pt``."""
    if _ems(label) * size <= width_pt:
        return label
    while label and (_ems(label) + 1.0) * size > width_pt:
        label = label[:-1]
    return label + "…"


# ---------------------------------------------------------------------------
# SVG text helpers

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: Any) -> str:
    """Text safe inside an XML element or a double- or single-quoted attribute."""
    text = _NOT_XML.sub("", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


def _n(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text(x: float, y: float, label: str) -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}">{_esc(label)}</text>'


# ---------------------------------------------------------------------------
# SVG clean-up (for SVG from elsewhere; the charts of this module are already clean)

_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
_STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>", re.DOTALL)
_SIZE_ATTR = re.compile(r'\s(width|height)="([0-9.]+)pt"')


def clean_svg(svg: str, *, prefix: str, title: str) -> str:
    """SVG safe to inline: ids prefixed with ``prefix``, no global style, a class, a label and a <title>."""
    svg = _PROLOG.sub("", svg)
    svg = _METADATA.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _STYLE.sub("", svg)
    for old in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f'"#{old}"', f'"#{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("no <svg> element")
    attrs = match.group(1)
    if not _ID.search(attrs):
        attrs += f' id="{_esc(prefix)}-chart"'
    label = _esc(title)
    opening = f'<svg{attrs} class="chart" role="img" aria-label="{label}"><title>{label}</title>'
    return (svg[: match.start()] + opening + svg[match.end():]).strip()


def svg_size_pt(svg: str) -> tuple[float, float]:
    """Width and height the SVG declares, in points (0 when absent)."""
    match = _SVG_OPEN.search(svg)
    sizes = {k: float(v) for k, v in _SIZE_ATTR.findall(match.group(1))} if match else {}
    return sizes.get("width", 0.0), sizes.get("height", 0.0)


# ---------------------------------------------------------------------------
# scales and ticks


def _span(values: Iterable[float], *, from_zero: bool = False, margin: float = 0.05) -> tuple[float, float]:
    """Axis limits around ``values``: a margin each side (none below a zero baseline), never empty."""
    vals = [v for v in values if math.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if from_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        delta = abs(hi) * 0.1 or 0.5
        return (lo, hi + 2 * delta) if from_zero and lo == 0 else (lo - delta, hi + delta)
    pad = (hi - lo) * margin
    return (lo if from_zero and lo == 0 else lo - pad), (hi if from_zero and hi == 0 else hi + pad)


def _ticks(lo: float, hi: float, target: int) -> tuple[list[float], int]:
    """"Nice" tick values (1, 2, 2.5 or 5 times a power of ten) within [lo, hi], and their decimals."""
    raw = (hi - lo) / max(target, 1)
    power = math.floor(math.log10(raw))
    mag = 10.0**power
    mult = next(m for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw * (1 - 1e-9))
    step = mult * mag
    decimals = max(0, -power + (1 if mult == 2.5 else 0) - (1 if mult == 10.0 else 0))
    eps = step * 1e-6
    first, last = math.ceil((lo - eps) / step), math.floor((hi + eps) / step)
    return [round(k * step, 12) for k in range(first, last + 1)], decimals


def _tick_label(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


@dataclass(frozen=True)
class _Entry:
    """One legend item: a dashed line or a filled patch, and its text."""

    kind: str  # "dash" or "patch"
    colour: str
    label: str


@dataclass
class _Frame:
    """Where the plot area sits in the picture (pt, origin top-left) and how data maps onto it."""

    left: float
    top: float
    width: float
    height: float
    total_height: float
    x_lo: float
    x_hi: float
    rows: int
    row_pad: float
    labels: list[str]
    legend: list[tuple[float, float, _Entry]] = field(default_factory=list)

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def row_height(self) -> float:
        return self.height / (self.rows - 1 + 2 * self.row_pad)

    def x(self, value: float) -> float:
        return self.left + (value - self.x_lo) / (self.x_hi - self.x_lo) * self.width

    def y(self, row: float) -> float:
        """Centre of row ``row`` counted from the top; fractions place offsets and jitter."""
        return self.top + (row + self.row_pad) * self.row_height


def _frame(
    labels: Sequence[str],
    x_range: tuple[float, float],
    *,
    row_in: float = 0.3,
    row_pad: float = 0.6,
    legend: Sequence[_Entry] = (),
    colorbar: bool = False,
) -> _Frame:
    """The layout of a one-axis chart with one row per label, margins computed from the labels."""
    left = min(_text_width_in(labels) + 0.18, WIDTH_IN * 0.45) * 72.0
    right = (0.15 + (0.75 if colorbar else 0.0)) * 72.0
    width = WIDTH_PT - left - right
    label_room = left - _TICK - _TICK_PAD - 2.0
    fitted = [_fit(str(label), label_room) for label in labels]
    placed, legend_rows = _legend_layout(legend, left + width)
    top = 0.12 * 72.0 + (0.28 * 72.0 + 11.0 * (legend_rows - 1) if legend_rows else 0.0)
    height = max(len(labels) * row_in, 0.5) * 72.0
    bottom = 0.42 * 72.0
    frame = _Frame(left, top, width, height, top + height + bottom, x_range[0], x_range[1], len(labels), row_pad, fitted)
    baseline = top - 5.0
    frame.legend = [(x, baseline - 11.0 * (legend_rows - 1 - r), e) for x, r, e in placed]
    return frame


def _legend_layout(entries: Sequence[_Entry], right: float) -> tuple[list[tuple[float, int, _Entry]], int]:
    """Legend items in rows right-aligned to ``right``: (x of the handle, row from the top, item), rows."""
    handle, gap, spacing = 1.6 * LEGEND_PT, 0.8 * LEGEND_PT, 2.0 * LEGEND_PT
    entries = [replace(e, label=_fit(e.label, right - 4.0 - handle - gap, LEGEND_PT)) for e in entries]
    widths = [handle + gap + _ems(e.label) * LEGEND_PT for e in entries]
    rows: list[list[int]] = []
    used = 0.0
    for i, w in enumerate(widths):
        if rows and used + spacing + w <= right - 4.0:
            rows[-1].append(i)
            used += spacing + w
        else:
            rows.append([i])
            used = w
    placed = []
    for r, row in enumerate(rows):
        x = right - (sum(widths[i] for i in row) + spacing * (len(row) - 1))
        for i in row:
            placed.append((x, r, entries[i]))
            x += widths[i] + spacing
    return placed, len(rows)


# ---------------------------------------------------------------------------
# chart parts


def _open(frame: _Frame) -> str:
    w, h = _n(WIDTH_PT), _n(frame.total_height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" '
        f'font-family="{_FONT_ATTR}" font-size="{_n(FONT_PT)}">'
    )


def _grid(frame: _Frame, ticks: Sequence[float]) -> str:
    """Light vertical grid lines at the x ticks, drawn first so the data sits above them."""
    d = "".join(f"M{_n(frame.x(t))} {_n(frame.top)}V{_n(frame.bottom)}" for t in ticks)
    return f'<path d="{d}" fill="none" stroke="{_GRID}" stroke-width="0.6"/>' if d else ""


def _axes(frame: _Frame, ticks: Sequence[float], decimals: int, x_label: str) -> str:
    """Left and bottom spines, tick marks, tick labels and the x-axis title."""
    top, bottom, left, right = frame.top, frame.bottom, frame.left, frame.right
    d = [f"M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(right)}"]
    d += [f"M{_n(frame.x(t))} {_n(bottom)}v{_n(_TICK)}" for t in ticks]
    d += [f"M{_n(left)} {_n(frame.y(r))}h{_n(-_TICK)}" for r in range(frame.rows)]
    parts = [f'<path d="{"".join(d)}" fill="none" stroke="{_INK}" stroke-width="0.8"/>']
    shift = _BASELINE * FONT_PT
    y_text = [_text(left - _TICK - _TICK_PAD, frame.y(r) + shift, label) for r, label in enumerate(frame.labels)]
    parts.append(f'<g class="chart-ylabels" fill="{_INK}" text-anchor="end">{"".join(y_text)}</g>')
    x_base = bottom + _TICK + _TICK_PAD + 0.76 * FONT_PT
    x_text = [_text(frame.x(t), x_base, _tick_label(t, decimals)) for t in ticks]
    title_w = _ems(x_label) * FONT_PT
    centre = min(max(left + frame.width / 2, title_w / 2 + 2.0), WIDTH_PT - title_w / 2 - 2.0)
    x_text.append(_text(centre, bottom + 26.0, x_label))
    parts.append(f'<g class="chart-xlabels" fill="{_INK}" text-anchor="middle">{"".join(x_text)}</g>')
    return "".join(parts)


def _legend(frame: _Frame) -> str:
    if not frame.legend:
        return ""
    parts = []
    for x, base, entry in frame.legend:
        handle = 1.6 * LEGEND_PT
        if entry.kind == "dash":
            mid = base - 0.3 * LEGEND_PT
            parts.append(
                f'<path d="M{_n(x)} {_n(mid)}h{_n(handle)}" stroke="{entry.colour}" stroke-width="1.1" stroke-dasharray="4.07 1.76"/>'
            )
        else:
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(base - 0.7 * LEGEND_PT)}" width="{_n(handle)}" height="{_n(0.7 * LEGEND_PT)}" fill="{entry.colour}"/>'
            )
        parts.append(f'<text x="{_n(x + handle + 0.8 * LEGEND_PT)}" y="{_n(base)}" fill="{_INK}">{_esc(entry.label)}</text>')
    return f'<g class="chart-legend" font-size="{_n(LEGEND_PT)}">{"".join(parts)}</g>'


def _x_ticks(frame: _Frame) -> tuple[list[float], int]:
    """Ticks at most every three label heights (nine intervals at most), fewer when their labels would touch."""
    target = max(1, min(9, int(frame.width // (3 * FONT_PT))))
    while True:
        ticks, decimals = _ticks(frame.x_lo, frame.x_hi, target)
        widest = max((_ems(_tick_label(t, decimals)) * FONT_PT for t in ticks), default=0.0)
        gap = frame.x(ticks[1]) - frame.x(ticks[0]) if len(ticks) > 1 else frame.width
        if target == 1 or gap >= widest + FONT_PT:
            return ticks, decimals
        target -= 1


def _bar(frame: _Frame, row: float, start: float, end: float, thickness: float) -> str:
    """A horizontal bar from data ``start`` to ``end``, centred on ``row``, ``thickness`` in rows."""
    x0, x1 = sorted((frame.x(start), frame.x(end)))
    h = thickness * frame.row_height
    return f'<rect x="{_n(x0)}" y="{_n(frame.y(row) - h / 2)}" width="{_n(x1 - x0)}" height="{_n(h)}"/>'


# ---------------------------------------------------------------------------
# charts


def group_rates(
    by_group: Sequence[Mapping[str, Any]],
    *,
    metric: str = "value",
    threshold: float | None = None,
    threshold_label: str = "threshold",
) -> str | None:
    """Dot per group with its confidence interval as an error bar, plus a threshold line.

    Groups with ``eligible`` false (too few members to judge) are drawn hollow and grey.
    """
    rows = []
    room = WIDTH_IN * 0.45 * 72.0 - 0.18 * 72.0
    for g in by_group or ():
        if not isinstance(g, Mapping):
            continue
        value = as_number(g.get("value"))
        if value is None:
            continue
        lo, hi = as_number(g.get("ci_low")), as_number(g.get("ci_high"))
        n = g.get("n")
        suffix = f" (n={n})" if n is not None else ""
        name = _fit(_short(g.get("group", "?")), room - _ems(suffix) * FONT_PT)
        rows.append((name + suffix, value, lo, hi, g.get("eligible", True) is not False))
    if not rows:
        return None
    threshold = as_number(threshold)
    extent = [v for _label, value, lo, hi, _e in rows for v in (value, lo, hi) if v is not None]
    legend = []
    if threshold is not None:
        extent.append(threshold)
        legend.append(_Entry("dash", _BAD, f"{threshold_label} ({threshold:.3g})"))
    frame = _frame([r[0] for r in rows], _span(extent), row_pad=0.7, legend=legend)
    ticks, decimals = _x_ticks(frame)
    bars, dots = [], []
    for i, (_label, value, lo, hi, eligible) in enumerate(rows):
        colour = _ACCENT if eligible else _MUTED
        x, y = frame.x(value), frame.y(i)
        if lo is not None and hi is not None:
            x0, x1 = frame.x(min(lo, value)), frame.x(max(hi, value))
            d = f"M{_n(x0)} {_n(y)}H{_n(x1)}M{_n(x0)} {_n(y - 3)}v6M{_n(x1)} {_n(y - 3)}v6"
            bars.append(f'<path d="{d}" stroke="{colour}"/>')
        fill = colour if eligible else "#ffffff"
        dots.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{fill}" stroke="{colour}"/>')
    parts = [_open(frame), _grid(frame, ticks)]
    parts.append(f'<g class="chart-ci" fill="none" stroke-width="1.2">{"".join(bars)}</g>')
    parts.append(f'<g class="chart-dots" stroke-width="1">{"".join(dots)}</g>')
    if threshold is not None:
        at = _n(frame.x(threshold))
        parts.append(
            f'<path class="chart-threshold" d="M{at} {_n(frame.top)}V{_n(frame.bottom)}" stroke="{_BAD}" '
            'stroke-width="1.1" stroke-dasharray="4.07 1.76"/>'
        )
    parts += [_axes(frame, ticks, decimals, metric), _legend(frame), "</svg>"]
    return "".join(parts)


def shap_bar(global_importance: Mapping[str, Any], *, top: int = 15) -> str | None:
    """Mean absolute SHAP value per feature, largest first."""
    raw = [(str(k), as_number(v)) for k, v in global_importance.items()] if isinstance(global_importance, Mapping) else []
    items = [(k, abs(v)) for k, v in raw if v is not None]
    if not items:
        return None
    items.sort(key=lambda kv: kv[1], reverse=True)
    shown = items[:top]
    if not shown:
        return None
    frame = _frame([_short(k) for k, _ in shown], _span([v for _, v in shown], from_zero=True), row_in=0.24)
    ticks, decimals = _x_ticks(frame)
    bars = "".join(_bar(frame, i, 0.0, v, 0.65) for i, (_k, v) in enumerate(shown))
    return "".join([
        _open(frame),
        _grid(frame, ticks),
        f'<g class="chart-bars" fill="{_ACCENT}">{bars}</g>',
        _axes(frame, ticks, decimals, "mean |SHAP value| (average impact on the model output)"),
        "</svg>",
    ])


def _dots_png(xs: np.ndarray, ys: np.ndarray, colours: np.ndarray, palette: Sequence[tuple[int, int, int]], size: tuple[int, int], radius: float) -> bytes:
    """A palette PNG of filled discs centred at pixel positions ``xs``, ``ys``.

    ``colours`` index ``palette`` from 1 (0 is the transparent background). Pixels the
    disc edge covers about half are drawn with a half-transparent copy of the colour,
    a two-level anti-aliasing that keeps the palette, and so the PNG, small.
    """
    from PIL import Image

    w, h = size
    k = len(palette)
    canvas = np.zeros((h, w), dtype=np.uint8)
    reach = math.ceil(radius + 0.25)
    off = np.arange(-reach, reach + 1, dtype=np.int32)
    dx, dy = (a.ravel() for a in np.meshgrid(off, off))
    ix, iy = np.floor(xs).astype(np.int32), np.floor(ys).astype(np.int32)
    px, py = ix[:, None] + dx, iy[:, None] + dy  # pixels around each disc
    fx, fy = (xs - ix - 0.5).astype(np.float32), (ys - iy - 0.5).astype(np.float32)
    dist2 = (dx - fx[:, None]) ** 2 + (dy - fy[:, None]) ** 2  # squared distance of pixel centre to disc centre
    on_canvas = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    index = np.broadcast_to(colours[:, None].astype(np.uint8), px.shape)
    # edges first, then every disc body over them; later points cover earlier ones, as in a scatter plot
    edge = on_canvas & (dist2 < (radius + 0.25) ** 2)
    canvas[py[edge], px[edge]] = index[edge] + k
    body = on_canvas & (dist2 <= (radius - 0.25) ** 2)
    canvas[py[body], px[body]] = index[body]
    image = Image.frombytes("P", (w, h), canvas.tobytes())
    rgb = [(255, 255, 255), *palette, *palette]
    image.putpalette([c for colour in rgb for c in colour])
    alpha = bytes([0] + [255] * k + [110] * k)
    buf = io.BytesIO()
    image.save(buf, format="PNG", transparency=alpha)
    return buf.getvalue()


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def shap_beeswarm(sample: Mapping[str, Any], *, top: int = 12, seed: int = 0) -> str | None:
    """One dot per sampled customer and feature: x = SHAP value, colour = scaled feature value.

    The dots are one embedded PNG over the plot area; a missing feature value draws grey.
    """
    if not isinstance(sample, Mapping):
        return None
    features = [str(f) for f in sample.get("features") or ()]
    try:
        shap = np.asarray(sample.get("shap"), dtype=float)
    except (TypeError, ValueError):
        return None
    if not features or shap.ndim != 2 or shap.shape[1] != len(features) or shap.shape[0] == 0:
        return None
    colour_values: np.ndarray | None
    try:
        colour_values = np.asarray(sample.get("values_scaled"), dtype=float)
        if colour_values.shape != shap.shape:
            colour_values = None
    except (TypeError, ValueError):
        colour_values = None
    rng = np.random.default_rng(seed)
    if shap.shape[0] > MAX_BEESWARM_ROWS:
        keep_rows = np.sort(rng.choice(shap.shape[0], size=MAX_BEESWARM_ROWS, replace=False))
        shap = shap[keep_rows]
        colour_values = colour_values[keep_rows] if colour_values is not None else None
    finite = np.isfinite(shap)
    counts = finite.sum(axis=0)
    strength = np.where(counts > 0, np.where(finite, np.abs(shap), 0.0).sum(axis=0) / np.maximum(counts, 1), -1.0)
    order = np.argsort(-strength, kind="stable")[:top]
    if order.size == 0:
        return None
    shown = shap[:, order][finite[:, order]]
    frame = _frame(
        [_short(features[j]) for j in order],
        _span([float(shown.min(initial=0.0)), float(shown.max(initial=0.0))]),
        row_in=0.28,
        colorbar=colour_values is not None,
    )
    ramp = _ramp()
    palette = [*ramp, _hex_rgb(_ACCENT), _hex_rgb(_MUTED)]
    xs, ys, cs = [], [], []
    for rank, j in enumerate(order):
        keep = np.isfinite(shap[:, j])
        jitter = rng.uniform(-0.28, 0.28, size=int(keep.sum()))
        xs.append(shap[keep, j])
        ys.append(rank - jitter)
        if colour_values is None:
            cs.append(np.full(int(keep.sum()), len(ramp) + 1))
        else:
            v = colour_values[keep, j]
            idx = np.clip(np.floor(np.nan_to_num(v, nan=0.0) * len(ramp)), 0, len(ramp) - 1).astype(int) + 1
            cs.append(np.where(np.isfinite(v), idx, len(ramp) + 2))
    scale = RASTER_DPI / 72.0
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    px = (x_all - frame.x_lo) / (frame.x_hi - frame.x_lo) * size[0]
    py = (y_all + frame.row_pad) * frame.row_height * size[1] / frame.height
    png = _dots_png(px, py, np.concatenate(cs).astype(np.uint8), palette, size, radius=math.sqrt(7.0) / 2 * scale)
    ticks, decimals = _x_ticks(frame)
    href = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    parts = [
        _open(frame),
        (
            f'<image class="chart-points" x="{_n(frame.left)}" y="{_n(frame.top)}" width="{_n(frame.width)}" '
            f'height="{_n(frame.height)}" preserveAspectRatio="none" href="{href}"/>'
        ),
        f'<path class="chart-zero" d="M{_n(frame.x(0.0))} {_n(frame.top)}V{_n(frame.bottom)}" stroke="{_INK}" stroke-width="0.6"/>',
        _axes(frame, ticks, decimals, "SHAP value (impact on the model output for one customer)"),
    ]
    if colour_values is not None:
        parts.append(_colorbar(frame, ramp))
    parts.append("</svg>")
    return "".join(parts)


def _colorbar(frame: _Frame, ramp: Sequence[tuple[int, int, int]]) -> str:
    """The low-to-high key of the beeswarm's colours, right of the plot area."""
    x, w = frame.right + 9.0, 7.0
    top, h = frame.top + frame.height * 0.15, frame.height * 0.7
    step = h / len(ramp)
    cells = "".join(
        f'<rect x="{_n(x)}" y="{_n(top + h - (k + 1) * step)}" width="{_n(w)}" height="{_n(step + 0.3 if k < len(ramp) - 1 else step)}" '
        f'fill="#{r:02x}{g:02x}{b:02x}"/>'
        for k, (r, g, b) in enumerate(ramp)
    )
    tick_x = x + w
    ticks = f'<path d="M{_n(tick_x)} {_n(top)}h{_n(_TICK)}M{_n(tick_x)} {_n(top + h)}h{_n(_TICK)}" stroke="{_INK}" stroke-width="0.8"/>'
    shift = _BASELINE * FONT_PT
    text_x = tick_x + _TICK + _TICK_PAD
    label_x = text_x + _ems("high") * FONT_PT + 4.0 + FONT_PT
    label_y = top + h / 2
    return (
        f'<g class="chart-colorbar">{cells}{ticks}<g fill="{_INK}">'
        f"{_text(text_x, top + shift, 'high')}{_text(text_x, top + h + shift, 'low')}"
        f'<text x="{_n(label_x)}" y="{_n(label_y)}" text-anchor="middle" transform="rotate(-90 {_n(label_x)} {_n(label_y)})">'
        "feature value</text></g></g>"
    )


def segment_composition(composition: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Stacked horizontal bars: the share of each protected group within each segment."""
    if not isinstance(composition, Mapping):
        return None
    segments = [(str(s), {str(k): v for k, v in shares.items()}) for s, shares in composition.items() if isinstance(shares, Mapping)]
    groups: list[str] = []
    for _s, shares in segments:
        for g in shares:
            if g not in groups:
                groups.append(g)
    if not segments or not groups:
        return None
    widths = [[max(as_number(shares.get(g)) or 0.0, 0.0) for _s, shares in segments] for g in groups]
    totals = [sum(col) for col in zip(*widths)]
    legend = [_Entry("patch", _SERIES[i % len(_SERIES)], _short(g, 20)) for i, g in enumerate(groups)]
    frame = _frame([_short(s) for s, _ in segments], (0.0, max(1.0, *totals)), legend=legend)
    ticks, decimals = _x_ticks(frame)
    parts = [_open(frame)]
    left = [0.0] * len(segments)
    for i, series in enumerate(widths):
        bars = "".join(_bar(frame, r, left[r], left[r] + w, 0.65) for r, w in enumerate(series) if w > 0)
        parts.append(f'<g class="chart-series" fill="{_SERIES[i % len(_SERIES)]}">{bars}</g>')
        left = [a + w for a, w in zip(left, series)]
    parts += [_axes(frame, ticks, decimals, "share of segment members"), _legend(frame), "</svg>"]
    return "".join(parts)


def exposure(exposure_by_group: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Share of recommendation exposure against share of relevance, per group."""
    if not isinstance(exposure_by_group, Mapping):
        return None
    rows = []
    for g, v in exposure_by_group.items():
        if not isinstance(v, Mapping):
            continue
        e, r = as_number(v.get("exposure_share")), as_number(v.get("relevance_share"))
        if e is None and r is None:
            continue
        rows.append((_short(g), e or 0.0, r or 0.0))
    if not rows:
        return None
    legend = [_Entry("patch", _ACCENT, "exposure share"), _Entry("patch", _SERIES[1], "relevance share")]
    extent = [v for _g, e, r in rows for v in (e, r)]
    frame = _frame([r[0] for r in rows], _span(extent, from_zero=True), row_in=0.42, legend=legend)
    ticks, decimals = _x_ticks(frame)
    exposure_bars = "".join(_bar(frame, i - 0.18, 0.0, e, 0.34) for i, (_g, e, _r) in enumerate(rows))
    relevance_bars = "".join(_bar(frame, i + 0.18, 0.0, r, 0.34) for i, (_g, _e, r) in enumerate(rows))
    return "".join([
        _open(frame),
        _grid(frame, ticks),
        f'<g class="chart-series" fill="{_ACCENT}">{exposure_bars}</g>',
        f'<g class="chart-series" fill="{_SERIES[1]}">{relevance_bars}</g>',
        _axes(frame, ticks, decimals, "share"),
        _legend(frame),
        "</svg>",
    ])


def trend(
    windows: Sequence[str],
    series: Mapping[str, Sequence[Any]],
    *,
    intervals: Mapping[str, Sequence[Any]] | None = None,
    breaches: Mapping[str, Sequence[bool]] | None = None,
    reference: Sequence[bool] | None = None,
    threshold: float | None = None,
    threshold_label: str = "threshold",
    y_label: str = "value",
    from_zero: bool = True,
) -> str | None:
    """A value per calendar window and series (a group or a variable), one line each.

    Windows of the reference are shaded; a point that breaches the threshold is drawn as a larger
    red dot with a ring, so the windows to look at stand out even in grey print. ``intervals`` adds
    a vertical whisker (low, high) per point.
    """
    labels = [str(w) for w in windows or ()]
    clean: dict[str, list[float | None]] = {}
    for name, values in (series or {}).items():
        vals = [as_number(v) for v in list(values)[: len(labels)]]
        if any(v is not None for v in vals):
            clean[str(name)] = vals + [None] * (len(labels) - len(vals))
    if not labels or not clean:
        return None
    threshold = as_number(threshold)
    extent = [v for vals in clean.values() for v in vals if v is not None]
    for name, ivs in (intervals or {}).items():
        for iv in ivs or ():
            if iv:
                extent += [x for x in (as_number(iv[0]), as_number(iv[1])) if x is not None]
    if threshold is not None:
        extent.append(threshold)
    lo, hi = _span(extent, from_zero=from_zero)
    legend = [_Entry("patch", _SERIES[i % len(_SERIES)], _short(n, 24)) for i, n in enumerate(clean)]
    if threshold is not None:
        legend.append(_Entry("dash", _BAD, f"{threshold_label} ({threshold:.3g})"))
    if breaches and any(any(b) for b in breaches.values()):
        legend.append(_Entry("patch", _BAD, "breaching window"))
    left, right = 0.62 * 72.0, 0.2 * 72.0
    placed, legend_rows = _legend_layout(legend, WIDTH_PT - right)
    top = 0.12 * 72.0 + (0.28 * 72.0 + 11.0 * (legend_rows - 1) if legend_rows else 0.0)
    height = 1.9 * 72.0
    bottom = 0.5 * 72.0
    width = WIDTH_PT - left - right
    total = top + height + bottom
    step = width / max(len(labels), 1)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(v: float) -> float:
        return top + height - (v - lo) / (hi - lo) * height

    ticks, decimals = _ticks(lo, hi, 5)
    ticks = [t for t in ticks if lo - 1e-12 <= t <= hi + 1e-12]
    w_, h_ = _n(WIDTH_PT), _n(total)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w_}pt" height="{h_}pt" viewBox="0 0 {w_} {h_}" '
        f'font-family="{_FONT_ATTR}" font-size="{_n(FONT_PT)}" data-chart="trend">'
    ]
    shade = "".join(
        f'<rect x="{_n(left + step * i)}" y="{_n(top)}" width="{_n(step)}" height="{_n(height)}"/>'
        for i, ref in enumerate(reference or ()) if ref
    )
    if shade:
        parts.append(f'<g class="chart-reference" fill="#eeeeee">{shade}</g>')
    grid = "".join(f"M{_n(left)} {_n(y(t))}H{_n(left + width)}" for t in ticks)
    parts.append(f'<path d="{grid}" fill="none" stroke="{_GRID}" stroke-width="0.6"/>')
    if threshold is not None:
        parts.append(
            f'<path class="chart-threshold" d="M{_n(left)} {_n(y(threshold))}H{_n(left + width)}" stroke="{_BAD}" '
            'stroke-width="1.1" stroke-dasharray="4.07 1.76"/>'
        )
    marks = []
    for k, (name, vals) in enumerate(clean.items()):
        colour = _SERIES[k % len(_SERIES)]
        ivs = list((intervals or {}).get(name) or ())
        whiskers = []
        for i, iv in enumerate(ivs[: len(labels)]):
            if iv and vals[i] is not None:
                a, b = as_number(iv[0]), as_number(iv[1])
                if a is not None and b is not None:
                    whiskers.append(f"M{_n(x(i))} {_n(y(a))}V{_n(y(b))}")
        if whiskers:
            parts.append(f'<path class="chart-ci" d="{"".join(whiskers)}" stroke="{colour}" stroke-width="0.9" opacity="0.6"/>')
        segs, run = [], []
        for i, v in enumerate(vals):
            if v is None:
                if len(run) > 1:
                    segs.append(run)
                run = []
            else:
                run.append((x(i), y(v)))
        if len(run) > 1:
            segs.append(run)
        d = "".join("M" + "L".join(f"{_n(px)} {_n(py)}" for px, py in seg) for seg in segs)
        if d:
            parts.append(f'<path class="chart-line" d="{d}" fill="none" stroke="{colour}" stroke-width="1.4"/>')
        flags = list((breaches or {}).get(name) or ())
        dots = []
        for i, v in enumerate(vals):
            if v is None:
                continue
            if i < len(flags) and flags[i]:
                marks.append(
                    f'<circle class="chart-breach" cx="{_n(x(i))}" cy="{_n(y(v))}" r="4.2" fill="{_BAD}" stroke="#ffffff" stroke-width="1"/>'
                    f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="6.2" fill="none" stroke="{_BAD}" stroke-width="0.8"/>'
                )
            else:
                dots.append(f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="2.4"/>')
        parts.append(f'<g class="chart-dots" fill="{colour}">{"".join(dots)}</g>')
    parts.append("".join(marks))
    axis = f"M{_n(left)} {_n(top)}V{_n(top + height)}H{_n(left + width)}"
    axis += "".join(f"M{_n(left)} {_n(y(t))}h{_n(-_TICK)}" for t in ticks)
    axis += "".join(f"M{_n(x(i))} {_n(top + height)}v{_n(_TICK)}" for i in range(len(labels)))
    parts.append(f'<path d="{axis}" fill="none" stroke="{_INK}" stroke-width="0.8"/>')
    shift = _BASELINE * FONT_PT
    ylab = "".join(_text(left - _TICK - _TICK_PAD, y(t) + shift, _tick_label(t, decimals)) for t in ticks)
    parts.append(f'<g class="chart-ylabels" fill="{_INK}" text-anchor="end">{ylab}</g>')
    every = max(1, math.ceil(len(labels) * _ems("00-00") * FONT_PT * 1.4 / width))
    base = top + height + _TICK + _TICK_PAD + 0.76 * FONT_PT
    xlab = "".join(_text(x(i), base, lab[5:] if len(lab) == 10 else lab) for i, lab in enumerate(labels) if i % every == 0)
    xlab += _text(left + width / 2, top + height + 26.0, f"{y_label} per window (x: first day of the window, month-day)")
    parts.append(f'<g class="chart-xlabels" fill="{_INK}" text-anchor="middle">{xlab}</g>')
    frame = _Frame(left, top, width, height, total, 0.0, 1.0, 1, 0.0, [])
    frame.legend = [(px, (top - 5.0) - 11.0 * (legend_rows - 1 - r), e) for px, r, e in placed]
    parts += [_legend(frame), "</svg>"]
    return "".join(parts)


class ChartSet:
    """The charts of one document: numbered so their SVG ids never collide.

    ``text_as_paths`` is kept for callers of the former matplotlib version, which
    could turn glyphs into outlines; chart text is now always SVG <text>.
    """

    def __init__(self, prefix: str = "c", *, text_as_paths: bool = True) -> None:
        self.prefix = prefix
        self.text_as_paths = text_as_paths
        self.count = 0

    def draw(self, title: str, fn: Callable[..., str | None], *args: Any, **kwargs: Any) -> str | None:
        """Call a chart function of this module and return its inline SVG, or None."""
        return self.embed(fn(*args, **kwargs), title)

    def embed(self, svg: str | None, title: str) -> str | None:
        """Number ``svg`` in this set and give it its title; None stays None."""
        if svg is None:
            return None
        self.count += 1
        return clean_svg(svg, prefix=f"{self.prefix}{self.count}", title=title)
