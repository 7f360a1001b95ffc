"""Explanation checks on SHAP: reason codes, coverage, protected attribution, stability."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

_REGS = ("Reg B 12 CFR 1002.9(b)(2)", "GDPR Art. 15(1)(h)", "GDPR Art. 22(3)", "EU AI Act Art. 86", "PIPL Art. 24(3)")
# reasons never name a flagged proxy or a direct identifier: run after the checks that find them
_EXCLUSIONS = ("flagged_proxies", "direct_identifier_columns")


def mask_id(value: Any) -> str:
    """Customer numbers are pseudonymous but still identify a person: keep the shape, hide the middle."""
    s = str(value)
    if len(s) <= 3:
        return "*" * len(s)
    return s[:2] + "*" * (len(s) - 3) + s[-1]


def excluded_features(ctx: AuditContext, artifact: Any) -> tuple[set[str], set[str], set[str]]:
    """(protected attributes, flagged proxies, direct identifiers) that must never be a stated reason."""
    protected = set(map(str, getattr(artifact, "sensitive", None).columns)) if getattr(artifact, "sensitive", None) is not None else set()
    ds = ctx.datasets.get(getattr(artifact, "dataset", ""))
    if ds is not None:
        protected |= set(ds.roles.protected)
    proxies = set(ctx.facts.flagged_proxies.get(artifact.name, set()))
    identifiers: set[str] = set()
    for cols in ctx.facts.direct_identifier_columns.values():
        identifiers |= set(cols)
    return protected, proxies, identifiers


def adverse_mask(artifact: Any) -> np.ndarray:
    return ~np.asarray(artifact.favourable_mask(), dtype=bool)


def adverse_sample(ctx: AuditContext, artifact: Any, *, margin: float = 0.02, confidence: float = 0.95) -> Any:
    """The adverse decisions explained for this model: all of them, or a stratified sample sized for the bound."""

    def build() -> Any:
        from audit.explain.sampling import stratified_sample

        sample = stratified_sample(adverse_mask(artifact), strata=_strata(ctx, artifact), margin=margin, confidence=confidence, seed=ctx.seed)
        _record_design(ctx, artifact.name, sample)
        return sample

    return ctx.cached(f"adverse_sample:{artifact.name}:{margin}:{confidence}", build)


def _strata(ctx: AuditContext, artifact: Any) -> np.ndarray | None:
    """Protected group of every evaluation row (recorded attributes crossed, bands applied), or None."""
    sensitive = getattr(artifact, "sensitive", None)
    if sensitive is None or len(getattr(sensitive, "columns", ())) == 0 or len(sensitive) != len(adverse_mask(artifact)):
        return None
    from audit.checks.fairness._common import bands_for, resolve_attributes
    from audit.fairness import make_groups

    bands = bands_for(artifact, ctx)
    frame = sensitive.reset_index(drop=True)
    attrs, _skipped = resolve_attributes(frame, bands, None)
    if not attrs:
        return None
    return make_groups(frame, attributes=attrs, bands={a: e for a, e in bands.items() if a in attrs}).labels


def _record_design(ctx: AuditContext, model: str, sample: Any) -> None:
    ctx.report.explanation_sampling[model] = sample.design()
    texts = []
    for name, d in sorted(ctx.report.explanation_sampling.items()):
        if d["exhaustive"]:
            texts.append(f"Model {name}: all {d['adverse_decisions']:,} adverse decisions were explained (no sampling; shares are exact).")
        else:
            texts.append(
                f"Model {name}: {d['explained']:,} of {d['adverse_decisions']:,} adverse decisions were explained, a sample stratified by protected group "
                f"(proportional allocation, at least one per group, seed {d['seed']}), sized so that a share measured on it is within "
                f"{d['target_margin']:.1%} of the share over all decisions with {d['confidence']:.0%} confidence (two-sided Hoeffding bound; "
                f"realised bound {d['realised_margin']:.2%} with the design weights). Any customer's explanation is computed on request with "
                "`crm-audit explain --id`."
            )
    ctx.report.sampling = " ".join(texts)


def explanation_for(ctx: AuditContext, artifact: Any, *, sample_rows: int, seed: int, margin: float = 0.02, confidence: float = 0.95) -> Any:
    """One SHAP explanation per model per audit: the adverse decisions drawn by :func:`adverse_sample` plus a global sample."""

    def build() -> Any:
        from audit.explain import explain_classifier

        sample = adverse_sample(ctx, artifact, margin=margin, confidence=confidence)
        exp = explain_classifier(artifact, rows=sample.mask(), max_rows=sample_rows, seed=seed)
        ctx.report.explanations[artifact.name] = {
            "global": {k: float(v) for k, v in exp.global_importance().items()},
            "sample": exp.sample_for_chart(n=200, seed=seed),
            "explainer": exp.explainer,
            "output_space": exp.output_space,
            "notes": list(exp.notes),
        }
        return exp

    return ctx.cached(f"explanation:{artifact.name}", build)


def _explainable(subject: Subject) -> bool:
    art = subject.obj
    return getattr(art, "estimator", None) is not None and hasattr(art, "favourable_mask")


class _ExplainParams(CheckParams):
    sample_rows: int = Field(500, ge=50, description="Evaluation rows explained for the global picture.")
    sample_margin: float = Field(
        0.02, gt=0, lt=0.5, description="Adverse decisions are all explained up to the sample size this bound needs; beyond it a stratified sample is, and shares over adverse decisions are within this margin."
    )
    sample_confidence: float = Field(0.95, gt=0, lt=1, description="Confidence of the sample's bound.")


def _skip_reason(subject: Subject) -> str:
    return "the model was not shared (predictions only), so no explanation can be computed"


def adverse_reasons(ctx: AuditContext, artifact: Any, params: _ExplainParams, **options: Any) -> tuple[list[Any], tuple[set[str], set[str], set[str]], Any]:
    """Reason codes of the explained adverse decisions (never naming an excluded feature), those exclusions and the sample."""
    from audit.explain import adverse_direction, reason_codes

    protected, proxies, identifiers = excluded = excluded_features(ctx, artifact)
    sample = adverse_sample(ctx, artifact, margin=params.sample_margin, confidence=params.sample_confidence)
    exp = explanation_for(ctx, artifact, sample_rows=params.sample_rows, seed=ctx.seed, margin=params.sample_margin, confidence=params.sample_confidence)
    codes = reason_codes(exp, adverse_mask=sample.mask(), direction=adverse_direction(artifact), excluded_features=protected | proxies | identifiers, **options)
    return codes, excluded, sample


def _sample_note(share: Any) -> str:
    if share.exact:
        return ""
    return f"measured on a stratified sample; {share.confidence:.0%} bound {share.low:.4g} to {share.high:.4g} (±{share.margin:.2%})"


def _sample_evidence(sample: Any, share: Any) -> dict[str, Any]:
    return {"sample_size": sample.size, "confidence": sample.confidence, "sampled": not sample.exhaustive, "interval": [share.low, share.high], "sampling": sample.design()}


class ReasonCodesParams(_ExplainParams):
    max_reasons: int = Field(4, ge=1, le=10, description="Reasons per adverse decision (Reg B commentary: no more than four).")
    max_excluded_share: float = Field(0.0, ge=0, le=1, description="Largest acceptable share of adverse decisions driven by a protected attribute, proxy or identifier among the top reasons.")
    mapping: dict[str, str] = Field(default_factory=dict, description="Feature -> plain-language reason (may use {value}).")


@register
class ReasonCodes(Check):
    meta = CheckMeta(
        id="explain.reason_codes",
        title="Reasons for adverse decisions exclude protected attributes and proxies",
        category=Category.EXPLAINABILITY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=_REGS,
        provenance=Provenance.GUIDANCE,
        formula="for each adverse decision, the features with the largest SHAP push towards the adverse outcome (at most four, in plain language); observed = share of adverse decisions whose top drivers include a protected attribute, a flagged proxy or a direct identifier",
        default_threshold="<= 4 reasons (guidance: Reg B commentary); 0% of decisions driven by protected, proxy or identifier features",
        help="An adverse-action notice must state the principal, specific reasons; a reason that is a protected attribute or its proxy reveals unlawful discrimination.",
        provides=("reason_codes",),
        requires=_EXCLUSIONS,
    )
    Params = ReasonCodesParams

    def evaluate(self, subject: Subject, params: ReasonCodesParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not _explainable(subject):
            yield self.skip(subject.label, _skip_reason(subject))
            return
        mapping = {**ctx.reason_code_mapping, **params.mapping}
        codes, (protected, proxies, identifiers), sample = adverse_reasons(ctx, art, params, mapping=mapping, max_reasons=params.max_reasons)
        ctx.facts.reason_codes[art.name] = codes
        if not codes:
            yield self.skip(subject.label, "the model made no adverse decision on the evaluation rows")
            return
        driven = [c for c in codes if c.excluded_in_top]
        counts: dict[str, int] = {}
        for c in driven:
            for f in c.excluded_in_top:
                counts[f] = counts.get(f, 0) + 1
        examples = [
            {"customer": mask_id(c.id), "decision": "adverse", "reasons": [r.text for r in c.reasons]}
            for c in codes[:5]
            if c.explained
        ]
        ctx.report.reason_code_examples[art.name] = examples
        top_reasons: dict[str, int] = {}
        for c in codes:
            for r in c.reasons[:1]:
                top_reasons[r.feature] = top_reasons.get(r.feature, 0) + 1
        share = sample.share([bool(c.excluded_in_top) for c in codes], rows=[c.row for c in codes])
        yield self.judge(
            subject.label,
            share.value,
            threshold=params.max_excluded_share,
            op="<=",
            what="share of adverse decisions whose top drivers include a protected attribute, proxy or identifier",
            note=_sample_note(share),
            evidence={
                **_sample_evidence(sample, share),
                "adverse_decisions": sample.population,
                "explained_decisions": len(codes),
                "withheld_drivers": counts,
                "excluded_features": {"protected": sorted(protected), "proxies": sorted(proxies), "identifiers": sorted(identifiers)},
                "most_common_first_reason": dict(sorted(top_reasons.items(), key=lambda kv: -kv[1])[:6]),
                "max_reasons": params.max_reasons,
                "examples": examples,
            },
        )


class CoverageParams(_ExplainParams):
    min_coverage: float = Field(1.0, ge=0, le=1)


@register
class Coverage(Check):
    meta = CheckMeta(
        id="explain.coverage",
        title="Every adverse automated decision has a stored explanation",
        category=Category.EXPLAINABILITY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=_REGS,
        provenance=Provenance.TOOL,
        formula="share of adverse decisions with at least one stated reason",
        default_threshold="100%",
        help="A decision without a stored explanation cannot be answered in an access request or a contest.",
        requires=("reason_codes", *_EXCLUSIONS),
    )
    Params = CoverageParams

    def evaluate(self, subject: Subject, params: CoverageParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not _explainable(subject):
            yield self.judge(subject.label, 0.0, threshold=params.min_coverage, op=">=", what="share of adverse decisions with a stored explanation", note=_skip_reason(subject))
            return
        # the decisions of this check's sample (the same as explain.reason_codes' with the same bound)
        codes, _excluded, sample = adverse_reasons(ctx, art, params)
        if not codes:
            yield self.skip(subject.label, "the model made no adverse decision on the evaluation rows")
            return
        share = sample.share([bool(c.reasons) for c in codes], rows=[c.row for c in codes])
        yield self.judge(
            subject.label,
            share.value,
            threshold=params.min_coverage,
            op=">=",
            what="share of adverse decisions with a stored explanation",
            note=_sample_note(share),
            evidence={**_sample_evidence(sample, share), "adverse_decisions": sample.population, "explained_decisions": len(codes), "without_reason": int(sum(1 for c in codes if not c.reasons))},
        )


class AttributionParams(_ExplainParams):
    max_share: float = Field(0.05, ge=0, le=1)


@register
class ProtectedAttribution(Check):
    meta = CheckMeta(
        id="explain.protected_attribution",
        title="Share of the model's attribution on protected attributes and proxies",
        category=Category.EXPLAINABILITY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=("GDPR Art. 9", "GDPR Art. 22(4)", "ECOA 15 U.S.C. 1691", "EU AI Act Art. 10(2)(f)"),
        provenance=Provenance.TOOL,
        formula="sum of mean |SHAP| over protected attributes and flagged proxy features / sum of mean |SHAP| over all features",
        default_threshold="<= 5%",
        help="A model that leans on protected data, directly or through proxies, decides on grounds the law forbids.",
        requires=_EXCLUSIONS,
    )
    Params = AttributionParams

    def evaluate(self, subject: Subject, params: AttributionParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not _explainable(subject):
            yield self.skip(subject.label, _skip_reason(subject))
            return
        from audit.explain import protected_attribution

        protected, proxies, _ = excluded_features(ctx, art)
        exp = explanation_for(ctx, art, sample_rows=params.sample_rows, seed=ctx.seed, margin=params.sample_margin, confidence=params.sample_confidence)
        shares = protected_attribution(exp, sorted(protected), sorted(proxies))
        low, high = _attribution_interval(exp, sorted(protected | proxies), confidence=params.sample_confidence, seed=ctx.seed)
        total = shares["combined_share"]
        yield self.judge(
            subject.label,
            float(total),
            threshold=params.max_share,
            op="<=",
            what="share of mean |SHAP| on protected attributes and flagged proxies",
            note=f"{params.sample_confidence:.0%} bootstrap interval over the {int(exp.global_mask.sum())} globally sampled rows {low:.4g} to {high:.4g}" if low == low else "",
            evidence={
                "sample_rows": int(exp.global_mask.sum()),
                "confidence": params.sample_confidence,
                "interval": [low, high],
                "protected_share": shares["protected_share"],
                "proxy_share": shares["proxy_share"],
                "by_feature": {**shares["protected"], **shares["proxies"]},
                "protected_used_as_features": sorted(protected & set(art.features)),
                "flagged_proxies": sorted(proxies),
            },
        )


def _attribution_interval(exp: Any, features: list[str], *, confidence: float, seed: int, n_boot: int = 200) -> tuple[float, float]:
    """Percentile bootstrap interval of the attribution share over the uniformly sampled (global) rows."""
    names = list(exp.feature_names)
    values = np.abs(np.asarray(exp.values)[np.asarray(exp.global_mask, dtype=bool)])
    if len(values) < 2 or not features:
        return float("nan"), float("nan")
    cols = [names.index(f) for f in features if f in names]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    totals = np.stack([values[i].mean(axis=0) for i in idx])
    denom = totals.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = np.where(denom > 0, totals[:, cols].sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)
    reps = reps[~np.isnan(reps)]
    if not len(reps):
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    return float(np.quantile(reps, a)), float(np.quantile(reps, 1 - a))


class StabilityParams(CheckParams):
    min_rho: float = Field(0.8, ge=-1, le=1)
    n_refits: int = Field(3, ge=2, le=50)
    top_k: int = Field(10, ge=2)


@register
class Stability(Check):
    meta = CheckMeta(
        id="explain.stability",
        title="Stability of the model's top drivers under bootstrap refits",
        category=Category.EXPLAINABILITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER,),
        regulations=("EU AI Act Art. 15(1)",),
        provenance=Provenance.TOOL,
        formula="mean Spearman rho between the top-k mean |SHAP| ranking of the model and of refits on bootstrap resamples",
        default_threshold="rho >= 0.8",
        help="Explanations that change with a resample of the data cannot be the 'logic involved' told to a customer.",
        fast=False,
        requires=_EXCLUSIONS,
    )
    Params = StabilityParams

    def evaluate(self, subject: Subject, params: StabilityParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not _explainable(subject):
            yield self.skip(subject.label, _skip_reason(subject))
            return
        from audit.explain import stability

        res = stability(art, n_refits=params.n_refits, top_k=params.top_k, seed=ctx.seed)
        rhos = [float(r) for r in res.rhos]
        mean = float(res.mean_rho)
        yield self.judge(subject.label, mean, threshold=params.min_rho, op=">=", what="mean Spearman rho of top drivers across refits", evidence={"per_refit_rho": rhos, "n_refits": params.n_refits, "top_k": params.top_k, "notes": list(getattr(res, "notes", ()))})
