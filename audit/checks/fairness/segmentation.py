"""Fairness of customer segmentations: balance, distribution distance, treatment reach."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from audit.checks.fairness._common import (
    Grouping,
    GroupParams,
    fairness_outcome,
    num,
    protected_groupings,
    wilson,
)
from audit.core.check import Check, CheckMeta, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind
from audit.fairness import (
    FairnessResult,
    GroupLabels,
    cluster_balance,
    cluster_composition,
    segment_treatment_impact_ratio,
    total_variation_distance,
)

SEGMENT_REGULATIONS = ("GDPR Art. 5(1)(a)", "PIPL Art. 24", "EU AI Act Art. 10(2)(f)")
NOISE = "noise"
NO_TREATMENT = "no treatment"


def segment_names(art: Any) -> np.ndarray:
    """Segment label of each row: the cluster id, ``noise`` for DBSCAN's -1."""
    labels = np.asarray(art.labels)
    out = np.asarray([NOISE if str(v) == "-1" else str(v) for v in labels.tolist()], dtype=object)
    return out


def treatment_of(art: Any) -> dict[str, str]:
    """Treatment per segment name (segments without one get ``no treatment``)."""
    treat = {str(k): str(v) for k, v in (art.treatment or {}).items()}
    if "-1" in treat:
        treat[NOISE] = treat.pop("-1")
    return treat


def record_composition(ctx: AuditContext, art: Any, segments: np.ndarray, groups: list[Grouping]) -> dict[str, dict[str, float]]:
    """Share of each protected group inside each segment, stored for the report."""
    treat = treatment_of(art)
    comp: dict[str, dict[str, float]] = {}
    for g in groups:
        table = cluster_composition(segments, groups=g.labels)
        for rec in table.to_dict(orient="records"):
            seg = str(rec["cluster"])
            key = f"{seg} ({treat[seg]})" if seg in treat else seg
            comp.setdefault(key, {})[f"{g.attribute}={rec['group']}"] = float(rec["share_in_cluster"])
    block = ctx.report.segments
    entry = block.setdefault(art.name, {})
    entry["composition"] = comp
    entry["segment_sizes"] = {str(k): int(v) for k, v in pd.Series(segments).value_counts().sort_index().items()}
    if art.treatment:
        entry["treatment"] = treat
    return comp


class SegmentParams(GroupParams):
    min_cluster_share: float = Field(
        0.05, ge=0, lt=1, description="Segments holding a smaller share of customers (including DBSCAN noise) are shown but not judged."
    )


class BalanceParams(SegmentParams):
    min_balance: float = Field(0.8, ge=0, le=1, description="Lowest acceptable balance.")


class _SegmentCheck(Check):
    """Runs :meth:`measure` per protected attribute over the judged segments."""

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        groups, skips = protected_groupings(self, subject.label, art.sensitive, art, ctx, params.attributes)
        yield from skips
        if not groups:
            return
        segments = segment_names(art)
        record_composition(ctx, art, segments, groups)
        sizes = pd.Series(segments).value_counts()
        shares = sizes / sizes.sum()
        judged = sorted(str(s) for s in shares.index[shares >= params.min_cluster_share])
        small = {str(s): int(sizes[s]) for s in shares.index[shares < params.min_cluster_share]}
        if len(judged) < 2:
            for g in groups:
                yield self.skip(
                    f"{subject.label}/by:{g.attribute}",
                    f"fewer than two segments hold at least {params.min_cluster_share:.0%} of customers "
                    f"(segment sizes: {', '.join(f'{k}={int(v)}' for k, v in sizes.items())}): nothing to compare",
                    evidence={"attribute": g.attribute, "segment_sizes": {str(k): int(v) for k, v in sizes.items()}},
                )
            return
        mask = np.isin(segments, judged)
        for g in groups:
            yield from self.measure(f"{subject.label}/by:{g.attribute}", segments, mask, small, g, params, ctx)

    def measure(
        self, label: str, segments: np.ndarray, mask: np.ndarray, small: dict[str, int], g: Grouping, params: Any, ctx: AuditContext
    ) -> Iterable[Outcome]:
        raise NotImplementedError


def _subset(g: Grouping, mask: np.ndarray) -> GroupLabels:
    return g.groups.subset(mask) if not mask.all() else g.groups


def _small_note(small: dict[str, int], min_share: float) -> str:
    if not small:
        return ""
    listed = ", ".join(f"{k} (n={v})" for k, v in small.items())
    return f"segments under {min_share:.0%} of customers are shown but not judged: {listed}"


def _over_represented(segments: np.ndarray, mask: np.ndarray, g: Grouping, min_group_size: int) -> dict[str, Any] | None:
    comp = cluster_composition(segments[mask], groups=g.labels[mask])
    sizes = pd.Series(g.labels[mask]).value_counts()
    comp = comp[comp["group"].map(sizes).fillna(0) >= min_group_size]
    if comp.empty:
        return None
    top = comp.loc[comp["ratio"].idxmax()]
    return {"segment": str(top["cluster"]), "group": str(top["group"]), "share_in_segment": float(top["share_in_cluster"]), "share_overall": float(top["share_overall"]), "ratio": float(top["ratio"])}


def _least_balanced(res: FairnessResult) -> str | None:
    if res.worst_group is None:
        return None
    row = res.by_group[res.by_group["group"] == res.worst_group]
    where = f" (segment {row['worst_cluster'].iloc[0]})" if len(row) and row["worst_cluster"].iloc[0] is not None else ""
    return f"least balanced group {res.worst_group}{where}"


@register
class ClusterBalance(_SegmentCheck):
    meta = CheckMeta(
        id="fairness.cluster_balance",
        title="Balance of customer segments across protected groups",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.SEGMENTATION,),
        regulations=SEGMENT_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="min over judged segments c and groups g (n >= min_group_size) of min(r, 1/r), r = share of g in c / share of g overall (holisticai cluster_balance); stratified bootstrap CI; chi-squared test of independence of group and segment",
        default_threshold=">= 0.80 (no regulatory threshold)",
        help="Segments usually carry a treatment (offer, price, service tier): a segment that over- or under-represents a group passes that treatment on unevenly.",
    )
    Params = BalanceParams

    def measure(self, label: str, segments: np.ndarray, mask: np.ndarray, small: dict[str, int], g: Grouping, params: BalanceParams, ctx: AuditContext) -> Iterable[Outcome]:
        sub = _subset(g, mask)
        res = cluster_balance(segments[mask], groups=sub, min_group_size=params.min_group_size, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
        full = cluster_balance(segments, groups=g.groups, min_group_size=params.min_group_size, n_boot=0, seed=ctx.seed)
        over = _over_represented(segments, mask, g, params.min_group_size)
        notes = []
        if over:
            notes.append(f"most over-represented: {over['group']} in segment {over['segment']} ({over['share_in_segment']:.0%} vs {over['share_overall']:.0%} overall)")
        notes.append(_small_note(small, params.min_cluster_share))
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.min_balance,
            op=">=",
            what="segment balance (min over segments and groups of min(r, 1/r))",
            column="balance",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            extra_columns=("share", "worst_cluster"),
            evidence={"balance_all_segments": num(full.value), "small_segments": small, "most_over_represented": over},
            notes=notes,
            groups_text=_least_balanced(res),
        )


class TVParams(SegmentParams):
    max_distance: float = Field(0.2, ge=0, le=1, description="Largest acceptable total-variation distance between two groups' segment distributions.")


@register
class ClusterDistributionTV(_SegmentCheck):
    meta = CheckMeta(
        id="fairness.cluster_dist_tv",
        title="Total-variation distance between protected groups' segment distributions",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.SEGMENTATION,),
        regulations=SEGMENT_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="TV(P_g, P_h) = 0.5 sum_c |P(c | g) - P(c | h)| over judged segments; value = largest TV over pairs of groups with n >= min_group_size; stratified bootstrap CI; chi-squared test",
        default_threshold="<= 0.20 (no regulatory threshold)",
        help="When two groups are spread over the segments very differently, whatever the segments decide reaches them differently.",
    )
    Params = TVParams

    def measure(self, label: str, segments: np.ndarray, mask: np.ndarray, small: dict[str, int], g: Grouping, params: TVParams, ctx: AuditContext) -> Iterable[Outcome]:
        sub = _subset(g, mask)
        res = total_variation_distance(segments[mask], groups=sub, min_group_size=params.min_group_size, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.max_distance,
            op="<=",
            what="largest total-variation distance between two groups' segment distributions",
            column="tv_to_overall",
            metric_label="distance to the overall segment mix",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            evidence={"small_segments": small, "pair": [res.worst_group, res.best_group]},
            notes=(_small_note(small, params.min_cluster_share),),
            groups_text=f"most distant pair {res.worst_group} vs {res.best_group}" if res.worst_group else None,
        )


class TreatmentParams(GroupParams):
    min_ratio: float = Field(0.8, ge=0, le=1, description="Lowest acceptable ratio of the lowest to the highest group's treatment rate.")
    favourable_treatments: list[str] | None = Field(
        None, description="Treatments that benefit the customer (e.g. ['gold offer']); unset: the reach of every treatment is compared."
    )
    treatment_values: dict[str, float] | None = Field(
        None, description="Value in [0, 1] of each treatment (e.g. discount share); overrides favourable_treatments."
    )
    n_permutations: int = Field(199, ge=0, le=100_000, description="Permutations behind the p-value of a graded treatment.")


@register
class SegmentTreatmentRatio(Check):
    meta = CheckMeta(
        id="fairness.segment_treatment_ratio",
        title="Impact ratio of the treatment attached to segments (offer, tier) across protected groups",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.SEGMENTATION,),
        regulations=("PIPL Art. 24", "GDPR Art. 22"),
        provenance=Provenance.GUIDANCE,
        formula="treatment rate of group g = sum_c P(c | g) t(c); impact ratio = min_g / max_g over groups with n >= min_group_size; t(c) = 1 for a declared favourable treatment (or its declared value); with nothing declared, each treatment's reach is compared and the lowest ratio reported",
        default_threshold=">= 0.80 (four-fifths screen; no regulatory threshold outside employment)",
        help="Offers and service tiers tied to segments are where segmentation turns into differential treatment (PIPL Art. 24).",
    )
    Params = TreatmentParams

    def evaluate(self, subject: Subject, params: TreatmentParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not art.treatment:
            yield self.skip(subject.label, "no treatment (offer, price or tier) is attached to the segments: nothing to compare")
            return
        groups, skips = protected_groupings(self, subject.label, art.sensitive, art, ctx, params.attributes)
        yield from skips
        if not groups:
            return
        segments = segment_names(art)
        record_composition(ctx, art, segments, groups)
        treat = treatment_of(art)
        seg_treat = {s: treat.get(s, NO_TREATMENT) for s in pd.unique(segments)}
        levels = sorted(set(seg_treat.values()))
        if params.treatment_values is not None:
            unknown = [t for t in levels if t not in params.treatment_values and t != NO_TREATMENT]
            if unknown:
                yield self.skip(subject.label, f"treatment_values has no value for {unknown}")
                return
            plans = {"declared values": {s: float(params.treatment_values.get(t, 0.0)) for s, t in seg_treat.items()}}
            mode = "graded"
        elif params.favourable_treatments is not None:
            fav = set(params.favourable_treatments)
            plans = {" / ".join(sorted(fav)): {s: 1.0 if t in fav else 0.0 for s, t in seg_treat.items()}}
            mode = "favourable"
        else:
            plans = {t: {s: 1.0 if v == t else 0.0 for s, v in seg_treat.items()} for t in levels}
            mode = "reach"
        for g in groups:
            yield self._one(f"{subject.label}/by:{g.attribute}", segments, g, plans, mode, params, ctx)

    def _one(self, label: str, segments: np.ndarray, g: Grouping, plans: dict[str, dict[str, float]], mode: str, params: TreatmentParams, ctx: AuditContext) -> Outcome:
        results: dict[str, FairnessResult] = {}
        for name, mapping in plans.items():
            results[name] = segment_treatment_impact_ratio(
                segments,
                groups=g.groups,
                treatment=mapping,
                min_group_size=params.min_group_size,
                n_boot=params.n_boot,
                n_permutations=params.n_permutations,
                confidence=params.confidence,
                seed=ctx.seed,
            )
        finite = {k: r for k, r in results.items() if num(r.value) is not None}
        key = min(finite, key=lambda k: finite[k].value) if finite else next(iter(results))
        res = results[key]
        by_treatment = {k: num(r.value) for k, r in results.items()}
        binary = mode != "graded"
        cis = None
        if binary:
            cis = [wilson(float(r) * int(n), int(n), params.confidence) for r, n in zip(res.by_group["treatment_rate"], res.by_group["n"], strict=True)]
        if mode == "reach":
            what = f"impact ratio of the reach of '{key}' (lowest of the treatments compared)"
            groups_text = f"lowest reach {res.worst_group}, highest {res.best_group}" if res.worst_group else None
            notes = ("no favourable treatment declared: the reach of every treatment is compared; declare favourable_treatments to judge the benefit only",)
        else:
            what = f"impact ratio of treatment '{key}' across groups (four-fifths screen)"
            groups_text = None
            notes = ()
        best = res.by_group.loc[res.by_group["group"] == res.best_group, "treatment_rate"]
        ev: dict[str, Any] = {"treatment": key, "impact_ratio_by_treatment": by_treatment, "mode": mode}
        if len(best):
            ev["group_threshold"] = float(best.iloc[0]) * params.min_ratio
        return fairness_outcome(
            self,
            label,
            res,
            threshold=params.min_ratio,
            op=">=",
            what=what,
            column="treatment_rate",
            metric_label=f"share receiving '{key}'" if mode != "graded" else "mean treatment value",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            group_ci=cis,
            evidence=ev,
            notes=notes,
            groups_text=groups_text,
        )
