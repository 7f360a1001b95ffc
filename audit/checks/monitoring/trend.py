"""monitor.decision_rate_trend: the favourable-decision rate and impact ratio of each protected group per window.

Impact ratio IR_g = SR_g / max SR, SR = share of favourable decisions, in each window; the maximum is
taken over groups with at least ``min_group_size`` decisions in that window (smaller groups are shown,
not judged). The interval is the stratified bootstrap of the snapshot check (group sizes fixed, basic
interval). A window breaches when a judged group's IR is below the four-fifths screen; the same group
breaching in consecutive windows is high severity, a single window medium.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, fmt, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.fairness._stats import interval, stratified_draws
from audit.monitoring.data import DecisionLogData


class TrendParams(CheckParams):
    min_ratio: float = Field(0.8, gt=0, le=1, description="Four-fifths screen per window.")
    consecutive_for_high: int = Field(2, ge=1, description="Breaches of the same group in this many consecutive windows are high severity.")
    min_group_size: int = Field(30, ge=1, description="Groups with fewer decisions in a window are reported, not judged.")
    n_boot: int = Field(1000, ge=0, le=20000, description="Bootstrap replicates per window (0: no intervals).")
    confidence: float = Field(0.95, gt=0.5, lt=1)
    seed: int = 0
    favourable_decisions: list[str] = Field(default_factory=list, description="Decision values that are favourable, for logs whose records do not say (field 'favourable').")
    attributes: list[str] | None = Field(None, description="Protected attributes to follow (default: every recorded group attribute).")


def favourable_flags(log: DecisionLogData, params: TrendParams) -> tuple[np.ndarray | None, str]:
    fav = log.meta["favourable"]
    if fav.notna().all():
        return fav.to_numpy(dtype=bool), "the records' 'favourable' field"
    if params.favourable_decisions:
        return log.meta["decision"].isin(params.favourable_decisions).to_numpy(), f"decisions {', '.join(params.favourable_decisions)} (policy)"
    return None, ""


def window_rates(fav: np.ndarray, groups: np.ndarray, labels: list[str], params: TrendParams, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """Per group: n, favourable, SR, IR and its interval, for one window."""
    counts = np.array([[int(fav[groups == g].sum()), int((groups == g).sum() - fav[groups == g].sum())] for g in labels], dtype=np.int64)
    n = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = np.where(n > 0, counts[:, 0] / np.maximum(n, 1), np.nan)
    big = n >= params.min_group_size
    ref_max = np.nanmax(sr[big]) if big.any() else np.nan
    reps = None
    if params.n_boot and big.any():
        draws = stratified_draws(counts, params.n_boot, rng)  # (B, G, 2)
        bn = draws.sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            bsr = np.where(bn > 0, draws[:, :, 0] / np.maximum(bn, 1), np.nan)
        bmax = np.nanmax(np.where(big[None, :], bsr, np.nan), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = np.where(bmax[:, None] > 0, bsr / bmax[:, None], np.nan)
    out = {}
    for i, g in enumerate(labels):
        ir = float(sr[i] / ref_max) if np.isfinite(sr[i]) and np.isfinite(ref_max) and ref_max > 0 else None
        lo = hi = None
        if ir is not None and reps is not None:
            lo, hi = interval(ir, reps[:, i], confidence=params.confidence, method="basic", bounds=(0.0, 1.0))
        out[g] = {"n": int(n[i]), "favourable": int(counts[i, 0]), "rate": None if not np.isfinite(sr[i]) else round(float(sr[i]), 6), "impact_ratio": None if ir is None else round(ir, 6), "ci": None if lo is None else [round(lo, 6), round(hi, 6)], "judged": bool(big[i])}
    return out


@register
class DecisionRateTrend(Check):
    meta = CheckMeta(
        id="monitor.decision_rate_trend",
        title="Favourable-decision rate and impact ratio by protected group, per window",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=("EU AI Act Art. 72(2)", "EU AI Act Art. 26(5)", "GDPR Art. 22", "GDPR Art. 5(1)(a)", "PIPL Art. 24(1)"),
        provenance=Provenance.GUIDANCE,
        formula="per window: SR_g = favourable / decisions of group g; IR_g = SR_g / max SR over groups with n >= min_group_size; "
        "stratified bootstrap interval (basic); breach when IR_g < min_ratio",
        default_threshold="IR >= 0.80 per window (four-fifths rule: law for employment under 29 CFR 1607.4(D), a screen elsewhere); 2 consecutive breaching windows are high",
        help="A model that was fair at validation can become unfair in use; the decisions actually made are the evidence.",
    )
    Params = TrendParams

    def evaluate(self, subject: Subject, params: TrendParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        attrs = list(log.groups.columns)
        if params.attributes is not None:
            attrs = [a for a in attrs if a in params.attributes]
        if not attrs:
            yield self.skip(subject.label, "the log records no protected-group attribute (send them as 'groups' so decisions can be monitored by group)")
            return
        fav, fav_source = favourable_flags(log, params)
        if fav is None:
            yield self.skip(subject.label, "the records do not say which decisions are favourable: log 'favourable', or list favourable_decisions in the policy")
            return
        for attr in attrs:
            yield self._attribute(subject.label, attr, log, fav, fav_source, params)

    def _attribute(self, label: str, attr: str, log: DecisionLogData, fav: np.ndarray, fav_source: str, params: TrendParams) -> Outcome:
        rng = np.random.default_rng(params.seed)
        groups = log.groups[attr].to_numpy(dtype=object)
        labels = sorted(set(groups.tolist()))
        rows = []
        for w in log.windows:
            m = log.window_mask(w)
            rates = window_rates(fav[m], groups[m], labels, params, rng) if w.n else {}
            breaching = [g for g, r in rates.items() if r["judged"] and r["impact_ratio"] is not None and r["impact_ratio"] < params.min_ratio]
            rows.append({"window": w.label, "end": w.end.isoformat(), "n": w.n, "in_reference": w.in_reference, "groups": rates, "breaching_groups": breaching})
        # runs of consecutive breaching windows per group
        longest: dict[str, int] = {}
        run: dict[str, int] = {}
        first: dict[str, str] = {}
        for r in rows:
            for g in labels:
                if g in r["breaching_groups"]:
                    run[g] = run.get(g, 0) + 1
                    longest[g] = max(longest.get(g, 0), run[g])
                    first.setdefault(g, r["window"])
                else:
                    run[g] = 0
        evidence = {
            "attribute": attr,
            "favourable_from": fav_source,
            "window": log.spec.text,
            "reference": log.reference_label,
            "trend": {"metric": "impact ratio", "groups": labels, "windows": rows},
            "thresholds": {"min_ratio": params.min_ratio, "consecutive_for_high": params.consecutive_for_high, "min_group_size": params.min_group_size},
            "breaches": [{"window": r["window"], "group": g, "impact_ratio": r["groups"][g]["impact_ratio"], "ci": r["groups"][g]["ci"], "n": r["groups"][g]["n"]} for r in rows for g in r["breaching_groups"]],
        }
        subject = f"{label}/group:{attr}"
        judged_irs = [(r["window"], g, v["impact_ratio"]) for r in rows for g, v in r["groups"].items() if v["judged"] and v["impact_ratio"] is not None]
        if not judged_irs:
            return Outcome(subject=subject, status=Status.SKIPPED, message=f"{attr}: no window has two groups with >= {params.min_group_size} decisions", evidence=evidence)
        tail = f" ({self.meta.provenance.phrase}); favourable = {fav_source}"
        if not longest:
            low = min(judged_irs, key=lambda t: t[2])
            return Outcome(subject=subject, status=Status.PASS, observed=low[2], threshold=params.min_ratio, evidence=evidence,
                           message=f"{attr}: lowest impact ratio {fmt(low[2])} >= minimum {fmt(params.min_ratio)} (group {low[1]}, window {low[0]}) in {len(rows)} window(s){tail}")
        ref_end = log.reference[1].isoformat()
        info = {g: {"first_window": first[g], "longest_run": longest[g], "pre_existing": first[g] <= ref_end} for g in longest}
        evidence["breaching_groups"] = info
        new = sorted((g for g in info if not info[g]["pre_existing"]), key=lambda g: (first[g], -longest[g]))
        old = sorted((g for g in info if info[g]["pre_existing"]), key=lambda g: -longest[g])
        head = new[0] if new else old[0]
        high = max(longest.values()) >= params.consecutive_for_high
        first_w = first[head]
        stat = next(r for r in rows if r["window"] == first_w)["groups"][head]
        ci = f" [{stat['ci'][0]:.2f}, {stat['ci'][1]:.2f}]" if stat["ci"] else ""
        verb = "fell below" if not info[head]["pre_existing"] else "is below"
        msg = (
            f"{attr}: impact ratio of group {head} {verb} minimum {fmt(params.min_ratio)} from window {first_w}: {fmt(stat['impact_ratio'])}{ci} (n {stat['n']}); "
            f"{longest[head]} consecutive breaching window(s)"
        )
        others_new = [g for g in new if g != head]
        if others_new:
            msg += "; also newly breaching: " + ", ".join(f"{g} from {first[g]}" for g in others_new)
        others_old = [g for g in old if g != head]
        if others_old:
            msg += "; already below in the reference: " + ", ".join(others_old)
        msg += tail
        evidence["first_breach"] = {"group": head, "window": first_w, "pre_existing": info[head]["pre_existing"]}
        return Outcome(subject=subject, status=Status.FAIL, observed=stat["impact_ratio"], threshold=params.min_ratio, evidence=evidence, message=msg, severity=Severity.HIGH if high else Severity.MEDIUM)
