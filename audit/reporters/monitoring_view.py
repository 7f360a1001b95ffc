"""The report's "Monitoring over time" view: trend charts built from the monitoring findings' evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.reporters import charts

_DRIFT = ("monitor.feature_drift", "monitor.score_drift")
_SHOWN = ("fail", "error", "waived")


def _drift_chart(f: Mapping[str, Any], chart_set: charts.ChartSet) -> dict[str, Any] | None:
    ev = f.get("evidence") or {}
    rows = (ev.get("trend") or {}).get("windows") or []
    th = ev.get("thresholds") or {}
    if not rows:
        return None
    name = str(ev.get("variable") or f.get("subject"))
    svg = chart_set.draw(
        f"PSI per window, {name}",
        charts.trend,
        [r["window"] for r in rows],
        {name: [r.get("psi") for r in rows]},
        breaches={name: [bool(r.get("level")) for r in rows]},
        reference=[bool(r.get("in_reference")) for r in rows],
        threshold=th.get("psi_watch"),
        threshold_label="watch",
        y_label="PSI",
    )
    first = ev.get("first_breach")
    caption = f"PSI of {name} in each window against the reference {ev.get('reference', '')}; drift above {th.get('psi_drift')}." + (f" First breach: window {first}." if first else "")
    return {"svg": svg, "caption": caption, "anchor": f.get("check_id")}


def _trend_chart(f: Mapping[str, Any], chart_set: charts.ChartSet) -> dict[str, Any] | None:
    ev = f.get("evidence") or {}
    t = ev.get("trend") or {}
    rows, groups = t.get("windows") or [], t.get("groups") or []
    if not rows or not groups:
        return None
    series = {g: [((r.get("groups") or {}).get(g) or {}).get("impact_ratio") for r in rows] for g in groups}
    ivs = {g: [((r.get("groups") or {}).get(g) or {}).get("ci") for r in rows] for g in groups}
    flags = {g: [g in (r.get("breaching_groups") or []) for r in rows] for g in groups}
    attr = ev.get("attribute", "group")
    th = (ev.get("thresholds") or {}).get("min_ratio")
    svg = chart_set.draw(
        f"Impact ratio per window by {attr}",
        charts.trend,
        [r["window"] for r in rows],
        series,
        intervals=ivs,
        breaches=flags,
        reference=[bool(r.get("in_reference")) for r in rows],
        threshold=th,
        threshold_label="four-fifths screen",
        y_label="impact ratio",
    )
    first = ev.get("first_breach") or {}
    caption = f"Favourable-decision rate of each {attr} group over the best group's, per window, with {int(100 * 0.95)}% bootstrap intervals; shaded: the reference."
    if first:
        caption += f" First breach: group {first.get('group')} in window {first.get('window')}."
    return {"svg": svg, "caption": caption}


def _decay_chart(f: Mapping[str, Any], chart_set: charts.ChartSet) -> dict[str, Any] | None:
    ev = f.get("evidence") or {}
    rows = (ev.get("trend") or {}).get("windows") or []
    ref_auc = charts.as_number(ev.get("reference_auc"))
    if not rows or ref_auc is None:
        return None
    svg = chart_set.draw(
        "AUC per window",
        charts.trend,
        [r["window"] for r in rows],
        {"AUC": [r.get("auc") for r in rows]},
        breaches={"AUC": [bool(r.get("level")) for r in rows]},
        reference=[bool(r.get("in_reference")) for r in rows],
        threshold=ref_auc - 0.05 if f.get("threshold") is None else ref_auc - float(f["threshold"]),
        threshold_label="reference AUC minus allowed drop",
        y_label="AUC",
        from_zero=False,
    )
    return {"svg": svg, "caption": f"ROC AUC of the logged score against the joined outcomes, per window (reference AUC {ref_auc:.3f}). Windows without enough outcomes have no point."}


def monitoring_view(run: Mapping[str, Any], owned: Mapping[tuple[str, str], list[dict[str, Any]]], chart_set: charts.ChartSet) -> list[dict[str, Any]]:
    """One block per decision log: its summary, its trend charts and its findings."""
    out = []
    for (kind, name), fvs in owned.items():
        if kind != "decision_log":
            continue
        blocks = []
        for fv in fvs:
            f = fv["f"]
            cid = f["check_id"]
            chart = None
            if cid in _DRIFT and f["status"] in _SHOWN:
                chart = _drift_chart(f, chart_set)
            elif cid == "monitor.decision_rate_trend" and f["status"] in ("pass", *_SHOWN):
                chart = _trend_chart(f, chart_set)
            elif cid == "monitor.performance_decay" and f["status"] in ("pass", *_SHOWN):
                chart = _decay_chart(f, chart_set)
            if chart and chart.get("svg"):
                blocks.append({**chart, "finding": fv})
        order = {"monitor.decision_rate_trend": 0, "monitor.feature_drift": 1, "monitor.score_drift": 2, "monitor.performance_decay": 3}
        blocks.sort(key=lambda b: (order.get(b["finding"]["f"]["check_id"], 9), b["finding"]["f"]["subject"]))
        summary = run.get("monitoring") if isinstance(run.get("monitoring"), Mapping) and run["monitoring"].get("name") == name else None
        out.append({"name": name, "anchor": f"decision-log-{len(out) + 1}", "summary": summary, "charts": blocks, "findings": fvs})
    return out
