"""monitor.performance_decay: AUC per window once outcomes are joined, against the reference AUC."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import Field
from sklearn.metrics import roc_auc_score

from audit.core.check import Check, CheckMeta, CheckParams, fmt, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.monitoring.data import DecisionLogData


class DecayParams(CheckParams):
    max_drop: float = Field(0.05, gt=0, lt=1, description="AUC drop from the reference above which a window breaches (medium).")
    high_drop: float = Field(0.10, gt=0, lt=1, description="AUC drop above which a breach is high severity.")
    min_window_outcomes: int = Field(100, ge=10, description="Windows with fewer joined outcomes (or one class only) are not judged.")


def window_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    if len(y) == 0 or len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, s))


@register
class PerformanceDecay(Check):
    meta = CheckMeta(
        id="monitor.performance_decay",
        title="Performance decay per window once outcomes arrive",
        category=Category.PERFORMANCE,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=("EU AI Act Art. 72(1)", "EU AI Act Art. 72(2)", "EU AI Act Art. 15(1)", "GDPR Art. 5(1)(d)"),
        provenance=Provenance.TOOL,
        formula="ROC AUC of the logged score against the joined outcome (1 = the class the score predicts), per window; drop = reference AUC - window AUC",
        default_threshold="drop > 0.05 (medium), > 0.10 (high); no regulatory threshold",
        help="Accuracy declared at validation (Art. 13, 15) must hold in use; outcomes arrive late, so recent windows wait for them.",
    )
    Params = DecayParams

    def evaluate(self, subject: Subject, params: DecayParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        if log.outcomes is None:
            yield self.skip(subject.label, "no outcomes joined: pass --outcomes FILE (customer_id or subject, outcome) to measure performance")
            return
        y_all = log.outcomes.to_numpy(dtype=float)
        s_all = log.meta["score"].to_numpy(dtype=float)
        known = ~np.isnan(y_all) & ~np.isnan(s_all)
        ref = log.reference_mask & known
        ref_auc = window_auc(y_all[ref].astype(int), s_all[ref])
        evidence: dict[str, Any] = {"reference": log.reference_label, "window": log.spec.text, "outcomes": dict(log.outcomes_info), "reference_auc": ref_auc, "reference_outcomes": int(ref.sum())}
        if ref_auc is None or ref.sum() < params.min_window_outcomes:
            yield self.skip(subject.label, f"the reference has {int(ref.sum())} decisions with outcomes (both classes and >= {params.min_window_outcomes} needed)", evidence)
            return
        rows = []
        for w in log.windows:
            m = log.window_mask(w) & known
            n = int(m.sum())
            auc = window_auc(y_all[m].astype(int), s_all[m]) if n else None
            judged = w.start > log.reference[1] and n >= params.min_window_outcomes and auc is not None
            drop = None if auc is None else ref_auc - auc
            level = None
            if judged and drop is not None and drop > params.max_drop:
                level = "high" if drop > params.high_drop else "medium"
            rows.append({"window": w.label, "end": w.end.isoformat(), "n": w.n, "outcomes": n, "positives": int(y_all[m].sum()) if n else 0, "auc": None if auc is None else round(auc, 6), "drop": None if drop is None else round(drop, 6), "judged": judged, "in_reference": w.in_reference, "level": level, "awaiting_outcomes": n < params.min_window_outcomes})
        evidence["trend"] = {"metric": "AUC", "windows": rows}
        judged = [r for r in rows if r["judged"]]
        waiting = [r["window"] for r in rows if r["awaiting_outcomes"] and r["window"] > rows[0]["window"]]
        note = f"; awaiting outcomes: {', '.join(waiting)}" if waiting else ""
        tail = f" ({self.meta.provenance.phrase}); reference AUC {ref_auc:.3f} over {log.reference_label}{note}"
        if not judged:
            yield self.skip(subject.label, f"no window after the reference has >= {params.min_window_outcomes} outcomes{note}", evidence)
            return
        breaches = [r for r in judged if r["level"]]
        evidence["breaching_windows"] = [r["window"] for r in breaches]
        worst = max(judged, key=lambda r: r["drop"])
        if not breaches:
            yield Outcome(subject=f"{subject.label}/performance", status=Status.PASS, observed=worst["drop"], threshold=params.max_drop, evidence=evidence,
                          message=f"largest AUC drop {fmt(worst['drop'])} <= maximum {fmt(params.max_drop)} over {len(judged)} window(s){tail}")
            return
        first = breaches[0]
        evidence["first_breach"] = first["window"]
        listing = ", ".join(f"{r['window']} (AUC {r['auc']:.3f}, drop {r['drop']:.3f})" for r in breaches[:8])
        sev = Severity.HIGH if any(r["level"] == "high" for r in breaches) else Severity.MEDIUM
        yield Outcome(subject=f"{subject.label}/performance", status=Status.FAIL, observed=first["drop"], threshold=params.max_drop, evidence=evidence, severity=sev,
                      message=f"AUC drop {fmt(first['drop'])} > maximum {fmt(params.max_drop)} from window {first['window']}; {len(breaches)} of {len(judged)} window(s) breach: {listing}{tail}")
