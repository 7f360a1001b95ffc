"""Group fairness and per-group performance of binary classifiers.

Selection rates are rates of the FAVOURABLE outcome (``artifact.favourable_mask()``):
for a churn model, not being flagged is favourable, so the group flagged most
is the worst-off group. Error-rate parity is measured on the favourable
outcome too (equal opportunity = equal chance of the favourable decision for
people who merit it); equalized odds is the same either way round.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from audit.checks.fairness._common import (
    CROSS,
    Grouping,
    GroupParams,
    fairness_outcome,
    fmt_ci,
    grouping,
    groupings,
    no_groups,
    num,
    protected_groupings,
    wilson,
)
from audit.core.check import Check, CheckMeta, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind
from audit.fairness import (
    calibration_gap,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    performance_by_group,
    selection_rate_impact_ratio,
)

PARITY_REGULATIONS = ("EU AI Act Art. 10(2)(f)", "PIPL Art. 24", "GDPR Art. 5(1)(a)")
ERROR_RATE_REGULATIONS = ("EU AI Act Art. 10", "EU AI Act Art. 15(1)")


def favourable_labels(artifact: Any) -> tuple[np.ndarray, np.ndarray]:
    """(merits the favourable outcome, received it) per evaluation row."""
    received = np.asarray(artifact.favourable_mask(), dtype=bool)
    positive = np.asarray(artifact.y_true) == artifact.positive_label
    merits = positive if artifact.favourable_outcome == "positive" else ~positive
    return merits, received


def favourable_phrase(artifact: Any) -> str:
    if artifact.favourable_outcome == "positive":
        return f"prediction = {artifact.positive_label!r}"
    return f"prediction != {artifact.positive_label!r} (being predicted {artifact.positive_label!r} is adverse)"


def rate_ci(by_group: pd.DataFrame, rate: str, den: str, confidence: float) -> list[tuple[float | None, float | None]]:
    """Wilson interval of each group's rate."""
    out = []
    for r, d in zip(by_group[rate], by_group[den], strict=True):
        if d is None or not np.isfinite(float(r)) or int(d) == 0:
            out.append((None, None))
        else:
            out.append(wilson(float(r) * int(d), int(d), confidence))
    return out


def favourable_rate_result(metric: Any, merits: np.ndarray | None, received: np.ndarray, g: Grouping, params: Any, ctx: AuditContext, art: Any = None) -> Any:
    """``metric`` (a rate disparity of :mod:`audit.fairness`) of the favourable decisions over ``g``'s groups.

    When the Dask engine has counted this model's groups per partition, the merged counts are used
    (same figures: the row path counts the same cells).
    """
    from audit.compute.engine import confusion_for

    conf = confusion_for(ctx, art, g, merits is not None) if art is not None else None
    if conf is not None:
        from audit.fairness import disparities_from_counts

        return disparities_from_counts(
            conf, metrics=[metric.__name__], min_group_size=params.min_group_size, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed
        )[metric.__name__]
    return metric(
        merits,
        received,
        groups=g.groups,
        pos_label=True,
        min_group_size=params.min_group_size,
        n_boot=params.n_boot,
        confidence=params.confidence,
        seed=ctx.seed,
    )


class _ClassifierCheck(Check):
    """Runs :meth:`measure` for each protected attribute of a classifier."""

    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        return hasattr(subject.obj, "favourable_mask")

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        groups, skips = protected_groupings(self, subject.label, art.sensitive, art, ctx, params.attributes)
        yield from skips
        for g in groups:
            yield from self.measure(f"{subject.label}/by:{g.attribute}", art, g, params, ctx)

    def measure(self, label: str, art: Any, g: Grouping, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        raise NotImplementedError


# ---------------------------------------------------------------------------
# selection-rate parity


class ImpactRatioParams(GroupParams):
    min_ratio: float = Field(0.8, ge=0, le=1, description="Lowest acceptable ratio of the lowest to the highest group's favourable-outcome rate.")


def impact_ratio_outcome(
    check: Check, label: str, art: Any, g: Grouping, params: Any, ctx: AuditContext, *, min_ratio: float
) -> Outcome:
    _, received = favourable_labels(art)
    res = favourable_rate_result(selection_rate_impact_ratio, None, received, g, params, ctx, art)
    best = res.by_group.loc[res.by_group["group"] == res.best_group, "selection_rate"]
    evidence: dict[str, Any] = {"favourable_outcome": favourable_phrase(art)}
    if len(best):
        evidence["group_threshold"] = float(best.iloc[0]) * min_ratio
    return fairness_outcome(
        check,
        label,
        res,
        threshold=min_ratio,
        op=">=",
        what="impact ratio of favourable-outcome rates (lowest / highest group; four-fifths screen)",
        column="selection_rate",
        metric_label="favourable-outcome rate",
        attribute=g.attribute,
        min_group_size=params.min_group_size,
        confidence=params.confidence,
        group_ci=rate_ci(res.by_group, "selection_rate", "n", params.confidence),
        evidence=evidence,
        notes=("the four-fifths rule binds only employment selection (29 CFR 1607.4(D)); elsewhere it is a screen",),
    )


@register
class SelectionRateImpactRatio(_ClassifierCheck):
    meta = CheckMeta(
        id="fairness.selection_rate_impact_ratio",
        title="Impact ratio of favourable-outcome rates across protected groups (four-fifths screen)",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=PARITY_REGULATIONS,
        provenance=Provenance.GUIDANCE,
        formula="SR_g = P(favourable prediction | group g); impact ratio = min_g SR_g / max_g SR_g over groups with n >= min_group_size; stratified bootstrap CI; z or Fisher test of the worst against the best group",
        default_threshold=">= 0.80 (four-fifths rule: law for employment selection, 29 CFR 1607.4(D); a screen elsewhere)",
        help="A group receiving the favourable decision at under four fifths of the best group's rate is the classic signal of disparate impact.",
    )
    Params = ImpactRatioParams

    def measure(self, label: str, art: Any, g: Grouping, params: ImpactRatioParams, ctx: AuditContext) -> Iterable[Outcome]:
        yield impact_ratio_outcome(self, label, art, g, params, ctx, min_ratio=params.min_ratio)


class DifferenceParams(GroupParams):
    max_difference: float = Field(0.10, ge=0, le=1, description="Largest acceptable gap between the highest and lowest group rate.")


def parity_difference_outcome(
    check: Check, label: str, art: Any, g: Grouping, params: Any, ctx: AuditContext, *, max_difference: float
) -> Outcome:
    _, received = favourable_labels(art)
    res = favourable_rate_result(demographic_parity_difference, None, received, g, params, ctx, art)
    return fairness_outcome(
        check,
        label,
        res,
        threshold=max_difference,
        op="<=",
        what="demographic parity difference (highest - lowest favourable-outcome rate)",
        column="selection_rate",
        metric_label="favourable-outcome rate",
        attribute=g.attribute,
        min_group_size=params.min_group_size,
        confidence=params.confidence,
        group_ci=rate_ci(res.by_group, "selection_rate", "n", params.confidence),
        evidence={"favourable_outcome": favourable_phrase(art)},
    )


@register
class DemographicParityDifference(_ClassifierCheck):
    meta = CheckMeta(
        id="fairness.demographic_parity_difference",
        title="Demographic parity difference of favourable-outcome rates",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=PARITY_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="max_g SR_g - min_g SR_g, SR_g = P(favourable prediction | group g), over groups with n >= min_group_size (Fairlearn demographic_parity_difference, between_groups)",
        default_threshold="<= 0.10 (no regulatory threshold)",
        help="Large gaps in who receives the favourable decision call for a justification of the features driving them.",
    )
    Params = DifferenceParams

    def measure(self, label: str, art: Any, g: Grouping, params: DifferenceParams, ctx: AuditContext) -> Iterable[Outcome]:
        yield parity_difference_outcome(self, label, art, g, params, ctx, max_difference=params.max_difference)


# ---------------------------------------------------------------------------
# error-rate parity


@register
class EqualizedOddsDifference(_ClassifierCheck):
    meta = CheckMeta(
        id="fairness.equalized_odds_difference",
        title="Equalized odds difference (largest gap in true or false positive rate)",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=ERROR_RATE_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="max(max_g TPR_g - min_g TPR_g, max_g FPR_g - min_g FPR_g) over groups with n >= min_group_size (Fairlearn equalized_odds_difference, worst case); identical whichever outcome is called favourable",
        default_threshold="<= 0.10 (no regulatory threshold)",
        help="The model should be equally accurate for everyone: groups should not face more wrongful adverse decisions or fewer deserved favourable ones.",
    )
    Params = DifferenceParams

    def measure(self, label: str, art: Any, g: Grouping, params: DifferenceParams, ctx: AuditContext) -> Iterable[Outcome]:
        merits, received = favourable_labels(art)
        res = favourable_rate_result(equalized_odds_difference, merits, received, g, params, ctx, art)
        bg = res.by_group
        elig = bg["eligible"].to_numpy(dtype=bool)
        gaps = {}
        for rate in ("true_positive_rate", "false_positive_rate"):
            v = bg.loc[elig, rate].dropna()
            gaps[rate] = float(v.max() - v.min()) if len(v) else math.nan
        decisive = max(gaps, key=lambda r: -1.0 if math.isnan(gaps[r]) else gaps[r])
        den = "n_positive" if decisive == "true_positive_rate" else "n_negative"
        # both rates count favourable decisions: the group receiving fewer of them is worse off
        ok = bg.loc[elig, ["group", decisive]].dropna()
        if len(ok) >= 2:
            res = replace(res, worst_group=str(ok.loc[ok[decisive].idxmin(), "group"]), best_group=str(ok.loc[ok[decisive].idxmax(), "group"]))
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.max_difference,
            op="<=",
            what="equalized odds difference (largest gap in TPR or FPR of the favourable outcome)",
            column=decisive,
            metric_label=f"{decisive.replace('_', ' ')} of the favourable outcome",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            group_ci=rate_ci(bg, decisive, den, params.confidence),
            extra_columns=("true_positive_rate", "false_positive_rate", "n_positive", "n_negative"),
            evidence={
                "favourable_outcome": favourable_phrase(art),
                "decisive_rate": decisive,
                "tpr_gap": num(gaps["true_positive_rate"]),
                "fpr_gap": num(gaps["false_positive_rate"]),
            },
            notes=(f"set by the {decisive.replace('_', ' ')} gap (rates of the favourable decision)",),
        )


@register
class EqualOpportunityDifference(_ClassifierCheck):
    meta = CheckMeta(
        id="fairness.equal_opportunity_difference",
        title="Equal opportunity difference (gap in the favourable-outcome rate among those who merit it)",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=ERROR_RATE_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="max_g TPR_g - min_g TPR_g where TPR_g = P(favourable prediction | favourable true outcome, group g) (for churn: P(not flagged | did not churn)); groups with n >= min_group_size",
        default_threshold="<= 0.10 (no regulatory threshold)",
        help="People who merit the favourable decision should get it at the same rate in every group.",
    )
    Params = DifferenceParams

    def measure(self, label: str, art: Any, g: Grouping, params: DifferenceParams, ctx: AuditContext) -> Iterable[Outcome]:
        merits, received = favourable_labels(art)
        res = favourable_rate_result(equal_opportunity_difference, merits, received, g, params, ctx, art)
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.max_difference,
            op="<=",
            what="equal opportunity difference (gap in favourable-outcome rate among those who merit it)",
            column="true_positive_rate",
            metric_label="favourable-outcome rate among those who merit it",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            group_ci=rate_ci(res.by_group, "true_positive_rate", "n_positive", params.confidence),
            extra_columns=("n_positive",),
            evidence={"favourable_outcome": favourable_phrase(art)},
        )


# ---------------------------------------------------------------------------
# calibration


class CalibrationParams(GroupParams):
    max_gap: float = Field(0.05, ge=0, le=1, description="Largest acceptable gap in expected calibration error between groups.")
    n_bins: int = Field(10, ge=2, le=100, description="Equal-width probability bins of the calibration error.")


@register
class CalibrationByGroup(_ClassifierCheck):
    meta = CheckMeta(
        id="fairness.calibration_by_group",
        title="Calibration of scores per protected group (expected calibration error gap)",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=("EU AI Act Art. 13(3)(b)(v)", "EU AI Act Art. 15(1)"),
        provenance=Provenance.TOOL,
        formula="ECE_g = sum_b (n_gb / n_g) |mean(y)_gb - mean(p)_gb| over n_bins equal-width bins of the score; value = max_g ECE_g - min_g ECE_g (groups with n >= min_group_size); Brier scores and Welch's t-test in the evidence",
        default_threshold="<= 0.05 (no regulatory threshold)",
        help="A score that means different risks for different groups misleads every decision taken on it.",
    )
    Params = CalibrationParams

    def measure(self, label: str, art: Any, g: Grouping, params: CalibrationParams, ctx: AuditContext) -> Iterable[Outcome]:
        score = np.asarray(art.y_score, dtype=float)
        if score.ndim != 1 or score.shape[0] != g.groups.n_rows:
            yield self.skip(label, "the model records no one-dimensional probability score for its evaluation rows")
            return
        out = calibration_gap(
            art.y_true,
            score,
            groups=g.groups,
            pos_label=art.positive_label,
            n_bins=params.n_bins,
            min_group_size=params.min_group_size,
            n_boot=params.n_boot,
            confidence=params.confidence,
            seed=ctx.seed,
        )
        res, brier = out["ece_difference"], out["brier_difference"]
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.max_gap,
            op="<=",
            what="gap in expected calibration error between groups",
            column="ece",
            metric_label="expected calibration error",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            extra_columns=("brier",),
            evidence={
                "brier_gap": num(brier.value),
                "brier_gap_ci": [num(brier.ci_low), num(brier.ci_high)],
                "brier_p_value": num(brier.p_value),
                "n_bins": params.n_bins,
            },
            worst_label="least calibrated group",
            best_label="best calibrated",
        )


# ---------------------------------------------------------------------------
# intersectional


class IntersectionalParams(GroupParams):
    crossings: list[list[str]] | None = Field(
        None, description="Attribute combinations to cross; default: every pair of the model's protected attributes."
    )
    metric: Literal["impact_ratio", "demographic_parity_difference"] = Field(
        "impact_ratio", description="Disparity judged on the crossed groups."
    )
    min_ratio: float = Field(0.8, ge=0, le=1)
    max_difference: float = Field(0.10, ge=0, le=1)


@register
class Intersectional(Check):
    meta = CheckMeta(
        id="fairness.intersectional",
        title="Favourable-outcome parity across crossed protected attributes (e.g. gender × age band)",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=("EU AI Act Art. 10(2)(f)",),
        provenance=Provenance.GUIDANCE,
        formula="impact ratio (or demographic parity difference) of favourable-outcome rates over the cells of crossed attributes; cells below min_group_size are reported with their n but not judged",
        default_threshold="impact ratio >= 0.80 (four-fifths screen) or difference <= 0.10 (no regulatory threshold)",
        help="Disparities can hide in combinations (older women, young men) that single-attribute checks average away.",
    )
    Params = IntersectionalParams

    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        return hasattr(subject.obj, "favourable_mask")

    def evaluate(self, subject: Subject, params: IntersectionalParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        frame = art.sensitive
        if frame is None or frame.shape[1] == 0:
            yield no_groups(self, subject.label, {})
            return
        singles, skipped, bands = groupings(frame, art, ctx, params.attributes)
        names = [g.attribute for g in singles]
        if params.crossings is not None:
            crossings = [list(c) for c in params.crossings]
        else:
            crossings = [list(c) for c in itertools.combinations(names, 2)]
        if not crossings:
            yield self.skip(subject.label, f"needs at least two comparable protected attributes, found {names or 'none'}", evidence={"attributes_left_out": dict(skipped)})
            return
        for attrs in crossings:
            label = f"{subject.label}/by:{CROSS.join(attrs)}"
            missing = [a for a in attrs if a not in frame.columns]
            if missing or len(attrs) < 2:
                yield self.skip(label, f"cannot cross {attrs}: {'missing ' + ', '.join(missing) if missing else 'needs two or more attributes'}")
                continue
            g = grouping(frame, attrs, bands)
            if params.metric == "impact_ratio":
                yield impact_ratio_outcome(self, label, art, g, params, ctx, min_ratio=params.min_ratio)
            else:
                yield parity_difference_outcome(self, label, art, g, params, ctx, max_difference=params.max_difference)


# ---------------------------------------------------------------------------
# performance by group


def positive_score(art: Any) -> np.ndarray | None:
    """Score of the positive label per row (a text model keeps one column per label)."""
    if getattr(art, "y_score", None) is None:
        return None
    score = np.asarray(art.y_score, dtype=float)
    if score.ndim == 2:
        labels = list(getattr(art, "labels", []))
        if score.shape[1] != len(labels) or art.positive_label not in labels:
            return None
        score = score[:, labels.index(art.positive_label)]
    return score


class PerfParams(GroupParams):
    min_auc: float | None = Field(0.6, ge=0, le=1, description="Lowest acceptable ROC AUC in any group (tool default; declare the figure stated in the instructions for use).")
    max_auc_gap: float | None = Field(0.10, ge=0, le=1, description="Largest acceptable AUC gap between groups.")
    min_accuracy: float | None = Field(None, ge=0, le=1, description="Declared minimum accuracy per group (not judged when unset).")
    min_recall: float | None = Field(None, ge=0, le=1, description="Declared minimum recall (true positive rate) per group (not judged when unset).")


def auc_interval(auc: float, n_pos: int, n_neg: int, confidence: float) -> tuple[float | None, float | None]:
    """Hanley & McNeil (1982) normal interval of a ROC AUC."""
    if not math.isfinite(auc) or n_pos < 1 or n_neg < 1:
        return None, None
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


@register
class PerformanceByGroup(_ClassifierCheck):
    meta = CheckMeta(
        id="perf.by_group",
        title="Model performance (AUC, accuracy, recall) per protected group",
        category=Category.PERFORMANCE,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER, SubjectKind.TEXT_CLASSIFIER),
        regulations=("EU AI Act Art. 13(3)(b)(ii)", "EU AI Act Art. 15(3)"),
        provenance=Provenance.TOOL,
        formula="ROC AUC, accuracy and recall per group; lowest eligible group AUC vs the declared minimum (Hanley-McNeil interval per group); AUC gap = max - min over eligible groups (stratified bootstrap CI); declared accuracy/recall minimums judged per group",
        default_threshold="group AUC >= 0.60 and AUC gap <= 0.10 (no regulatory threshold; declare the figures of the instructions for use)",
        mode="H",
        help="High-risk systems must state their accuracy, including for the groups they are used on; a model much weaker for one group fails those people.",
    )
    Params = PerfParams

    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        return hasattr(subject.obj, "favourable_mask") or subject.kind is SubjectKind.TEXT_CLASSIFIER

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if subject.kind is SubjectKind.TEXT_CLASSIFIER:
            labelled = [v for v in np.asarray(art.y_true, dtype=object) if v is not None and not (isinstance(v, float) and math.isnan(v))]
            if not labelled:
                yield self.skip(subject.label, "the texts carry no true labels: performance cannot be measured")
                return
            if art.positive_label is None or len(art.labels) != 2:
                yield self.skip(subject.label, f"performance per group is measured for binary text classifiers; this one has {len(art.labels)} labels")
                return
        yield from super().evaluate(subject, params, ctx)

    def measure(self, label: str, art: Any, g: Grouping, params: PerfParams, ctx: AuditContext) -> Iterable[Outcome]:
        score = positive_score(art)
        if score is not None and (score.ndim != 1 or score.shape[0] != g.groups.n_rows):
            score = None
        out = performance_by_group(
            art.y_true,
            art.y_pred,
            groups=g.groups,
            y_score=score,
            pos_label=art.positive_label,
            min_group_size=params.min_group_size,
            n_boot=params.n_boot,
            confidence=params.confidence,
            seed=ctx.seed,
        )
        acc = out["accuracy_difference"].by_group.set_index("group")
        rec = out["recall_difference"].by_group.set_index("group")
        table = pd.DataFrame({"group": list(g.groups.names), "n": g.groups.sizes})
        table["accuracy"] = table["group"].map(acc["accuracy"]).astype(float)
        table["recall"] = table["group"].map(rec["true_positive_rate"]).astype(float)
        table["n_positive"] = table["group"].map(rec["n_positive"]).astype(int)
        table["n_negative"] = table["n"] - table["n_positive"]
        auc_res = out.get("auc_difference")
        if auc_res is not None:
            table["auc"] = table["group"].map(auc_res.by_group.set_index("group")["auc"]).astype(float)
        table["eligible"] = table["n"] >= params.min_group_size
        judged: list[tuple[str, float | None, str, str]] = [
            ("auc", params.min_auc, "lowest group ROC AUC", "auc"),
            ("accuracy", params.min_accuracy, "lowest group accuracy", "accuracy"),
            ("recall", params.min_recall, "lowest group recall", "recall"),
        ]
        for metric, minimum, what, column in judged:
            if minimum is None:
                continue
            if column not in table.columns:
                yield self.skip(f"{label}/metric:{metric}", "the model records no probability score: AUC cannot be computed")
                continue
            yield self._minimum(f"{label}/metric:{metric}", table, column, minimum, what, g.attribute, params)
        if params.max_auc_gap is not None and auc_res is not None:
            yield fairness_outcome(
                self,
                f"{label}/metric:auc_gap",
                auc_res,
                threshold=params.max_auc_gap,
                op="<=",
                what="ROC AUC gap between groups",
                column="auc",
                attribute=g.attribute,
                min_group_size=params.min_group_size,
                confidence=params.confidence,
                group_ci=self._cis(auc_res.by_group.merge(table[["group", "n_negative"]], on="group"), "auc", params.confidence),
                extra_columns=("n_positive",),
                worst_label="weakest group",
                best_label="strongest",
            )

    @staticmethod
    def _cis(table: pd.DataFrame, column: str, confidence: float) -> list[tuple[float | None, float | None]]:
        out = []
        for rec in table.to_dict(orient="records"):
            v = float(rec[column]) if rec.get(column) is not None else math.nan
            if column == "auc":
                out.append(auc_interval(v, int(rec["n_positive"]), int(rec["n_negative"]), confidence))
            elif not math.isfinite(v):
                out.append((None, None))
            else:
                den = int(rec["n_positive"]) if column == "recall" else int(rec["n"])
                out.append(wilson(v * den, den, confidence))
        return out

    def _minimum(self, label: str, table: pd.DataFrame, column: str, minimum: float, what: str, attribute: str, params: PerfParams) -> Outcome:
        cis = self._cis(table, column, params.confidence)
        rows = []
        for rec, (lo, hi) in zip(table.to_dict(orient="records"), cis, strict=True):
            rows.append(
                {
                    "group": str(rec["group"]),
                    "n": int(rec["n"]),
                    "value": num(rec[column]),
                    "ci_low": num(lo),
                    "ci_high": num(hi),
                    "eligible": bool(rec["eligible"]) and num(rec[column]) is not None,
                    "n_positive": int(rec["n_positive"]),
                    **{k: num(rec[k]) for k in ("auc", "accuracy", "recall") if k in rec and k != column},
                }
            )
        judged = [r for r in rows if r["eligible"]]
        evidence: dict[str, Any] = {
            "attribute": attribute,
            "metric": column,
            "by_group": rows,
            "group_threshold": minimum,
            "min_group_size": params.min_group_size,
            "excluded_groups": [r["group"] for r in rows if not r["eligible"]],
            "confidence": params.confidence,
        }
        if not judged:
            evidence["statistically_clear"] = False
            return self.skip(label, f"{what}: no group with n >= {params.min_group_size} and a defined {column}", evidence=evidence)
        worst = min(judged, key=lambda r: r["value"])
        best = max(judged, key=lambda r: r["value"])
        evidence.update({"worst_group": worst["group"], "best_group": best["group"], "ci": [worst["ci_low"], worst["ci_high"]], "p_value": None})
        below = worst["value"] < minimum
        clear = bool(below and worst["ci_high"] is not None and worst["ci_high"] < minimum)
        evidence["statistically_clear"] = clear
        ci_txt = f"{params.confidence * 100:g}% CI {fmt_ci(worst['ci_low'], worst['ci_high'])}"
        if not below:
            note = f"weakest group {worst['group']} ({ci_txt})"
        elif clear:
            note = f"weakest group {worst['group']}; shortfall statistically clear ({ci_txt})"
        else:
            note = f"weakest group {worst['group']}; shortfall within noise: the {ci_txt} reaches the minimum"
        small = [f"{r['group']} (n={r['n']})" for r in rows if r["n"] < params.min_group_size]
        if small:
            note += f"; groups below n={params.min_group_size} are shown but not judged: {', '.join(small)}"
        return self.judge(label, float(worst["value"]), threshold=minimum, op=">=", what=what, evidence=evidence, note=note)


__all__ = [
    "CalibrationByGroup",
    "DemographicParityDifference",
    "EqualOpportunityDifference",
    "EqualizedOddsDifference",
    "Intersectional",
    "PerformanceByGroup",
    "SelectionRateImpactRatio",
]
