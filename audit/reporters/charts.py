"""Static SVG charts for the audit report.

Every chart is drawn with matplotlib's object API (no pyplot, no global figure
state), glyphs are stored as paths so the picture does not depend on the
fonts of whoever opens the report, and the SVG is cleaned for inline use in
HTML: no XML prolog, no metadata block, no comments, no global <style>, and
ids prefixed so several charts can share one document.

Each public function takes plain data from findings/extras and returns the
SVG markup, or ``None`` when the data is missing or not usable: a report
must degrade to "no chart" rather than fail on incomplete evidence.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps, rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

WIDTH_IN = 6.3  # fits an A4 page with 2 cm margins
RASTER_DPI = 110  # only dense point clouds are rasterised (beeswarm); axes and text stay vector
MAX_BEESWARM_ROWS = 300
_INK = "#1b1b1b"
_GRID = "#d9d9d9"
_ACCENT = "#1f5fa8"
_BAD = "#b3261e"
_MUTED = "#9a9a9a"
_BEESWARM_CMAP = colormaps["coolwarm"].resampled(9)  # few colours keep the embedded PNG small
_SERIES = ("#1f5fa8", "#e08a1e", "#3b8f4a", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#b7950b")

_PREFERRED_FAMILIES = ("DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Droid Sans Fallback")


@functools.lru_cache(maxsize=1)
def font_families() -> tuple[str, ...]:
    """Installed families, Latin first then CJK, so group names in Chinese still draw."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = tuple(name for name in _PREFERRED_FAMILIES if name in installed)
    return found or ("sans-serif",)


# "path": glyphs drawn as outlines, independent of the viewer's fonts (HTML).
# "none": real <text>; right for the PDF, where WeasyPrint embeds the fonts it uses.
_TEXT_MODE: contextvars.ContextVar[str] = contextvars.ContextVar("chart_text_mode", default="path")


def _rc() -> dict[Any, Any]:
    return {
        "svg.fonttype": _TEXT_MODE.get(),
        "svg.hashsalt": "crm-audit-report",
        "font.family": list(font_families()),
        "font.size": 8,
        "axes.edgecolor": _INK,
        "axes.labelcolor": _INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": _INK,
        "ytick.color": _INK,
        "legend.frameon": False,
        "legend.fontsize": 7,
    }


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


# ---------------------------------------------------------------------------
# SVG clean-up

_PROLOG = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
_STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>", re.DOTALL)
_SIZE_ATTR = re.compile(r'\s(width|height)="([0-9.]+)pt"')


def _escape_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def clean_svg(svg: str, *, prefix: str, title: str) -> str:
    """Make matplotlib's SVG safe to inline: unique ids, no global style, a <title>."""
    svg = _PROLOG.sub("", svg)
    svg = _METADATA.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _STYLE.sub("", svg)
    ids = _ID.findall(svg)
    for old in sorted(set(ids), key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f'"#{old}"', f'"#{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
    match = _SVG_OPEN.search(svg)
    if match is None:  # pragma: no cover - matplotlib always writes one
        raise ValueError("matplotlib produced no <svg> element")
    attrs = match.group(1)
    label = _escape_attr(title)
    opening = f'<svg{attrs} class="chart" role="img" aria-label="{label}"><title>{label}</title>'
    return (svg[: match.start()] + opening + svg[match.end():]).strip()


def svg_size_pt(svg: str) -> tuple[float, float]:
    """Width and height the SVG declares, in points (0 when absent)."""
    match = _SVG_OPEN.search(svg)
    sizes = {k: float(v) for k, v in _SIZE_ATTR.findall(match.group(1))} if match else {}
    return sizes.get("width", 0.0), sizes.get("height", 0.0)


def _render(fig: Figure) -> str:
    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with _quiet_font_lookup():
        fig.savefig(buf, format="svg", dpi=RASTER_DPI, metadata={"Date": None, "Creator": None})
    return buf.getvalue()


@contextlib.contextmanager
def _quiet_font_lookup() -> Iterator[None]:
    """CJK families often ship one weight only; matplotlib logs each substitution."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


FONT_PT = 8.0
_EM_IN = FONT_PT / 72.0


def _text_width_in(labels: Iterable[str]) -> float:
    """Width of the longest label in inches (DejaVu Sans averages ~0.62 em; CJK glyphs are 1 em)."""
    widest = 0.0
    for label in labels:
        ems = sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.62 for ch in str(label))
        widest = max(widest, ems)
    return widest * _EM_IN


def _frame(rows: int, labels: Sequence[str], *, row_in: float = 0.3, legend: bool = False, colorbar: bool = False) -> tuple[Figure, Any]:
    """A figure with one horizontal-category axes, margins computed from the labels.

    Laying out by hand instead of with matplotlib's constrained layout halves the
    drawing time, which matters when a report carries dozens of charts.
    """
    left = min(_text_width_in(labels) + 0.18, WIDTH_IN * 0.45)
    top = 0.12 + (0.28 if legend else 0.0)
    bottom = 0.42
    right = 0.15 + (0.75 if colorbar else 0.0)
    plot_h = max(rows * row_in, 0.5)
    height = top + plot_h + bottom
    fig = Figure(figsize=(WIDTH_IN, height))
    ax = fig.add_axes((left / WIDTH_IN, bottom / height, (WIDTH_IN - left - right) / WIDTH_IN, plot_h / height))
    return fig, ax


def _legend_above(ax: Any, ncol: int) -> None:
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=ncol, borderaxespad=0.2, handlelength=1.6)


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
    for g in by_group or ():
        if not isinstance(g, Mapping):
            continue
        value = as_number(g.get("value"))
        if value is None:
            continue
        lo, hi = as_number(g.get("ci_low")), as_number(g.get("ci_high"))
        n = g.get("n")
        name = _short(g.get("group", "?"))
        label = f"{name} (n={n})" if n is not None else name
        rows.append((label, value, lo, hi, g.get("eligible", True) is not False))
    if not rows:
        return None
    threshold = as_number(threshold)
    with rc_context(_rc()):
        fig, ax = _frame(len(rows), [r[0] for r in rows], legend=threshold is not None)
        ys = np.arange(len(rows))[::-1]
        for y, (_label, value, lo, hi, eligible) in zip(ys, rows):
            colour = _ACCENT if eligible else _MUTED
            if lo is not None and hi is not None:
                ax.errorbar(
                    value, y, xerr=[[max(value - lo, 0.0)], [max(hi - value, 0.0)]], fmt="none",
                    ecolor=colour, elinewidth=1.2, capsize=3,
                )
            ax.plot(value, y, "o", color=colour, markerfacecolor=colour if eligible else "white", markersize=6)
        if threshold is not None:
            ax.axvline(threshold, color=_BAD, linestyle="--", linewidth=1.1, label=f"{threshold_label} ({threshold:.3g})")
            _legend_above(ax, 1)
        ax.set_yticks(ys, [r[0] for r in rows])
        ax.set_xlabel(metric)
        ax.grid(axis="x", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        return _render(fig)


def shap_bar(global_importance: Mapping[str, Any], *, top: int = 15) -> str | None:
    """Mean absolute SHAP value per feature, largest first."""
    raw = [(str(k), as_number(v)) for k, v in global_importance.items()] if isinstance(global_importance, Mapping) else []
    items = [(k, abs(v)) for k, v in raw if v is not None]
    if not items:
        return None
    items.sort(key=lambda kv: kv[1], reverse=True)
    shown = items[:top]
    labels = [_short(k) for k, _ in shown]
    with rc_context(_rc()):
        fig, ax = _frame(len(shown), labels, row_in=0.24)
        ys = np.arange(len(shown))[::-1]
        ax.barh(ys, [v for _, v in shown], color=_ACCENT, height=0.65)
        ax.set_yticks(ys, labels)
        ax.set_ylim(-0.6, len(shown) - 0.4)
        ax.set_xlabel("mean |SHAP value| (average impact on the model output)")
        ax.grid(axis="x", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        return _render(fig)


def shap_beeswarm(sample: Mapping[str, Any], *, top: int = 12, seed: int = 0) -> str | None:
    """One dot per sampled customer and feature: x = SHAP value, colour = scaled feature value."""
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
    with np.errstate(all="ignore"):
        strength = np.nanmean(np.abs(shap), axis=0)
    order = np.argsort(-np.nan_to_num(strength, nan=-1.0))[:top]
    labels = [_short(features[j]) for j in order]
    with rc_context(_rc()):
        fig, ax = _frame(len(order), labels, row_in=0.28, colorbar=colour_values is not None)
        scatter = None
        for rank, j in enumerate(order):
            y = len(order) - 1 - rank
            xs = shap[:, j]
            keep = np.isfinite(xs)
            jitter = rng.uniform(-0.28, 0.28, size=int(keep.sum()))
            if colour_values is not None:
                scatter = ax.scatter(
                    xs[keep], y + jitter, c=np.clip(colour_values[keep, j], 0, 1), cmap=_BEESWARM_CMAP,
                    vmin=0, vmax=1, s=7, linewidths=0, rasterized=True,
                )
            else:
                ax.scatter(xs[keep], y + jitter, color=_ACCENT, s=7, linewidths=0, rasterized=True)
        ax.axvline(0, color=_INK, linewidth=0.6)
        ax.set_yticks(np.arange(len(order))[::-1], labels)
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.set_xlabel("SHAP value (impact on the model output for one customer)")
        if scatter is not None:
            pos = ax.get_position()
            cax = fig.add_axes((pos.x1 + 0.02, pos.y0 + pos.height * 0.15, 0.015, pos.height * 0.7))
            bar = fig.colorbar(scatter, cax=cax, ticks=[0, 1])
            bar.ax.set_yticklabels(["low", "high"])
            bar.set_label("feature value")
            bar.outline.set_visible(False)
        return _render(fig)


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
    labels = [_short(s) for s, _ in segments]
    with rc_context(_rc()):
        fig, ax = _frame(len(segments), labels, legend=True)
        ys = np.arange(len(segments))[::-1]
        left = np.zeros(len(segments))
        for i, g in enumerate(groups):
            widths = np.array([as_number(shares.get(g)) or 0.0 for _s, shares in segments])
            ax.barh(ys, widths, left=left, color=_SERIES[i % len(_SERIES)], height=0.65, label=_short(g, 20))
            left += widths
        ax.set_yticks(ys, labels)
        ax.set_ylim(-0.6, len(segments) - 0.4)
        ax.set_xlabel("share of segment members")
        ax.set_xlim(0, max(1.0, float(left.max())))
        _legend_above(ax, min(len(groups), 6))
        return _render(fig)


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
    with rc_context(_rc()):
        fig, ax = _frame(len(rows), [r[0] for r in rows], row_in=0.42, legend=True)
        ys = np.arange(len(rows))[::-1]
        ax.barh(ys + 0.18, [r[1] for r in rows], height=0.34, color=_ACCENT, label="exposure share")
        ax.barh(ys - 0.18, [r[2] for r in rows], height=0.34, color=_SERIES[1], label="relevance share")
        ax.set_yticks(ys, [r[0] for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("share")
        ax.grid(axis="x", color=_GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        _legend_above(ax, 2)
        return _render(fig)


class ChartSet:
    """The charts of one document: numbered so their SVG ids never collide.

    ``text_as_paths`` False keeps chart text as SVG <text> (for the PDF, whose
    renderer embeds the fonts); True converts glyphs to outlines (for HTML viewed
    anywhere).
    """

    def __init__(self, prefix: str = "c", *, text_as_paths: bool = True) -> None:
        self.prefix = prefix
        self.mode = "path" if text_as_paths else "none"
        self.count = 0

    def draw(self, title: str, fn: Callable[..., str | None], *args: Any, **kwargs: Any) -> str | None:
        """Call a chart function of this module and return its inline SVG, or None."""
        token = _TEXT_MODE.set(self.mode)
        try:
            svg = fn(*args, **kwargs)
        finally:
            _TEXT_MODE.reset(token)
        return self.embed(svg, title)

    def embed(self, svg: str | None, title: str) -> str | None:
        if svg is None:
            return None
        self.count += 1
        return clean_svg(svg, prefix=f"{self.prefix}{self.count}", title=title)
