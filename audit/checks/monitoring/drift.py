"""monitor.feature_drift and monitor.score_drift: each window against the reference window.

Judged on PSI (the credit-risk convention: < 0.10 stable, 0.10-0.25 watch, > 0.25 drift) and, for
numeric variables, on the KS test (p below alpha with a statistic above a minimum effect, so that
large windows do not flag negligible shifts). One finding per variable; its evidence holds the
whole trend (every window's PSI, KS or Jensen-Shannon distance, n) for the report's chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from audit.core.check import Check, CheckMeta, CheckParams, fmt, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.monitoring.data import DecisionLogData
from audit.monitoring.stats import EPSILON, N_BINS, binning, drift, shares

DRIFT_REGULATIONS = ("EU AI Act Art. 72(1)", "EU AI Act Art. 72(2)", "EU AI Act Art. 15(1)", "GDPR Art. 5(1)(d)")


class DriftParams(CheckParams):
    psi_watch: float = Field(0.10, gt=0, description="PSI above which a window is on watch (medium).")
    psi_drift: float = Field(0.25, gt=0, description="PSI above which a window has drifted (high).")
    ks_alpha: float = Field(0.01, gt=0, lt=1, description="KS p-value below which a numeric shift is significant...")
    ks_min_effect: float = Field(0.1, ge=0, le=1, description="...and the KS statistic must exceed this too (effect size).")
    n_bins: int = Field(N_BINS, ge=2, le=100, description="Reference-quantile bins for numeric variables.")
    epsilon: float = Field(EPSILON, gt=0, lt=0.01, description="Floor for empty bin shares in PSI.")
    min_window_rows: int = Field(100, ge=1, description="Windows with fewer decisions are shown but not judged.")
    include_groups: bool = Field(True, description="feature_drift only: also the recorded protected-group mix (population drift).")
    variables: list[str] | None = Field(None, description="feature_drift only: restrict to these features (default: all logged ones).")

    @model_validator(mode="after")
    def _order(self) -> DriftParams:
        if self.psi_drift < self.psi_watch:
            raise ValueError("psi_drift must be at least psi_watch")
        return self


def drift_trend(log: DecisionLogData, values: pd.Series, params: DriftParams, keep: np.ndarray | None = None) -> dict[str, Any]:
    """Per-window figures of one variable against the reference, with the windows that breach.

    ``keep`` restricts the rows (e.g. one model's decisions in a log shared by several models).
    """
    keep = np.ones(len(values), dtype=bool) if keep is None else keep
    ref_mask = log.reference_mask & keep
    ref = values[ref_mask]
    b = binning(ref, values[keep], params.n_bins)
    ref_shares = shares(b.codes(ref), b.n_cells)
    rows = []
    for w in log.windows:
        m = log.window_mask(w) & keep
        n = int(m.sum())
        judged = (not w.in_reference) and w.start > log.reference[1] and n >= params.min_window_rows
        fig = drift(ref, values[m], b, ref_shares, epsilon=params.epsilon) if n else None
        row: dict[str, Any] = {"window": w.label, "end": w.end.isoformat(), "n": n, "in_reference": w.in_reference, "judged": judged}
        if fig is not None:
            row.update(fig.to_dict())
        level = None
        if judged and fig is not None:
            if fig.psi > params.psi_drift:
                level = "drift"
            elif fig.psi > params.psi_watch:
                level = "watch"
            elif fig.ks is not None and fig.ks_p is not None and fig.ks_p < params.ks_alpha and fig.ks > params.ks_min_effect:
                level = "ks"
        row["level"] = level
        rows.append(row)
    return {
        "numeric": b.numeric,
        "bins": b.labels(),
        "reference_shares": [round(float(x), 6) for x in ref_shares],
        "reference_n": int(ref_mask.sum()),
        "windows": rows,
    }


def judge_drift(check: Check, subject: str, what: str, log: DecisionLogData, trend: dict[str, Any], params: DriftParams) -> Outcome:
    rows = trend["windows"]
    judged = [r for r in rows if r["judged"]]
    tail = f" ({check.meta.provenance.phrase}); reference {log.reference_label}"
    evidence = {"variable": what, "reference": log.reference_label, "window": log.spec.text, "trend": trend, "thresholds": {"psi_watch": params.psi_watch, "psi_drift": params.psi_drift, "ks_alpha": params.ks_alpha, "ks_min_effect": params.ks_min_effect}}
    if not judged:
        small = [r["window"] for r in rows if not r["in_reference"] and r["n"] < params.min_window_rows]
        why = f"no window after the reference has >= {params.min_window_rows} decisions" + (f" (too small: {', '.join(small)})" if small else "")
        return Outcome(subject=subject, status=Status.SKIPPED, message=f"{what}: {why}", evidence=evidence)
    worst = max(judged, key=lambda r: r.get("psi") or 0.0)
    breaches = [r for r in judged if r["level"]]
    evidence["breaching_windows"] = [r["window"] for r in breaches]
    evidence["first_breach"] = breaches[0]["window"] if breaches else None
    if not breaches:
        return Outcome(subject=subject, status=Status.PASS, observed=worst["psi"], threshold=params.psi_watch, evidence=evidence,
                       message=f"{what}: largest PSI {fmt(worst['psi'])} <= maximum {fmt(params.psi_watch)} in {len(judged)} window(s){tail}")
    drifted = [r for r in breaches if r["level"] == "drift"]
    severity = Severity.HIGH if drifted else Severity.MEDIUM
    first = breaches[0]
    if first["level"] == "ks":
        head = f"KS {fmt(first['ks'])} > {fmt(params.ks_min_effect)} with p {first['ks_p']:.2g} < {params.ks_alpha:g}"
        threshold: Any = params.ks_min_effect
        observed: Any = first["ks"]
    else:
        limit = params.psi_drift if first["level"] == "drift" else params.psi_watch
        head = f"PSI {fmt(first['psi'])} > maximum {fmt(limit)}"
        threshold, observed = limit, first["psi"]
    label = {"drift": "drift", "watch": "watch", "ks": "KS shift"}
    listing = ", ".join(f"{r['window']} ({label[r['level']]}, PSI {fmt(r['psi'])})" for r in breaches[:8])
    msg = f"{what}: {head} from window {first['window']}; {len(breaches)} of {len(judged)} window(s) breach: {listing}{tail}"
    return Outcome(subject=subject, status=Status.FAIL, observed=observed, threshold=threshold, evidence=evidence, message=msg, severity=severity)


_FORMULA = (
    "per window vs the reference: PSI = sum over reference-decile bins (categories for categorical variables, "
    "missing values a bin of their own) of (a - e) ln(a / e), shares floored at 1e-4; KS statistic and p-value "
    "(numeric); Jensen-Shannon distance, base 2 (categorical)"
)


@register
class FeatureDrift(Check):
    meta = CheckMeta(
        id="monitor.feature_drift",
        title="Feature and population drift per window against the reference",
        category=Category.PERFORMANCE,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=DRIFT_REGULATIONS,
        provenance=Provenance.TOOL,
        formula=_FORMULA,
        default_threshold="PSI > 0.10 watch (medium), > 0.25 drift (high); KS p < 0.01 with statistic > 0.1 (industry convention, no regulatory threshold)",
        help="Post-market monitoring: the customers scored now are not the ones the model was validated on. "
        "Protected-group mix is monitored too (population drift), so a shift in who is scored is visible.",
        fast=True,
    )
    Params = DriftParams

    def evaluate(self, subject: Subject, params: DriftParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        feats = list(log.features.columns)
        if params.variables is not None:
            missing = [v for v in params.variables if v not in feats]
            if missing:
                yield self.skip(subject.label, f"feature(s) {', '.join(missing)} are not in the log; logged: {', '.join(feats) or '(none)'}")
            feats = [f for f in feats if f in params.variables]
        if not feats and log.features_hashed:
            yield self.skip(subject.label, f"features are stored as keyed hashes ({log.features_hashed} records): drift cannot be measured; log feature values to monitor them")
        for f in feats:
            trend = drift_trend(log, log.features[f], params)
            yield judge_drift(self, f"{subject.label}/feature:{f}", f"feature {f}", log, trend, params)
        if params.include_groups:
            for g in log.groups.columns:
                trend = drift_trend(log, log.groups[g], params)
                yield judge_drift(self, f"{subject.label}/group:{g}", f"population mix by {g}", log, trend, params)


@register
class ScoreDrift(Check):
    meta = CheckMeta(
        id="monitor.score_drift",
        title="Score drift per window against the reference",
        category=Category.PERFORMANCE,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=DRIFT_REGULATIONS,
        provenance=Provenance.TOOL,
        formula=_FORMULA,
        default_threshold="PSI > 0.10 watch (medium), > 0.25 drift (high); KS p < 0.01 with statistic > 0.1 (industry convention, no regulatory threshold)",
        help="A shifting score distribution changes how many customers cross the decision threshold even when no feature drifts alone.",
    )
    Params = DriftParams

    def evaluate(self, subject: Subject, params: DriftParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        for model in sorted(log.meta["model"].unique()):
            trend = drift_trend(log, log.meta["score"], params, keep=(log.meta["model"] == model).to_numpy())
            yield judge_drift(self, f"{subject.label}/score:{model}", f"score of {model}", log, trend, params)
