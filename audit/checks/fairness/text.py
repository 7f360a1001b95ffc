"""Counterfactual identity swaps for text models: label flips and score changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import Field
from scipy import stats

from audit.checks.fairness._common import clarity, num
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.kinds import model_kind
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.fairness import CounterfactualResult, counterfactual_flip_rate, load_identity_terms

TEXT_REGULATIONS = ("EU AI Act Art. 10(2)(f)", "EU AI Act Art. 15(1)", "GDPR Art. 5(1)(a)")
LANGS = ("en", "zh")


class CounterfactualParams(CheckParams):
    categories: list[str] | None = Field(None, description="Identity categories to swap (gender, first_names, nationality, religion, ...); default: all.")
    terms_file: str | None = Field(None, description="Extra identity-term pairs (YAML, same layout as the bundled list).")
    max_texts: int = Field(5000, ge=1, description="Texts scored at most (a seeded sample beyond this).")
    min_texts: int = Field(30, ge=1, description="Categories found in fewer texts are reported but not judged.")
    n_boot: int = Field(200, ge=0, le=100_000)
    confidence: float = Field(0.95, gt=0, lt=1)


class FlipParams(CounterfactualParams):
    max_flip_rate: float = Field(0.05, ge=0, le=1, description="Flip rate must stay below this (Giskard's ethical-bias default).")


class GapParams(CounterfactualParams):
    max_score_gap: float = Field(0.05, ge=0, le=1, description="Largest acceptable mean absolute change of the predicted probabilities.")


def run_swaps(art: Any, params: CounterfactualParams, ctx: AuditContext) -> tuple[dict[str, CounterfactualResult], dict[str, Any]]:
    """Counterfactual results per category, shared by both checks of a model."""
    key = ("counterfactual", art.name, tuple(params.categories or ()), params.terms_file, params.max_texts, params.n_boot, params.confidence, ctx.seed)

    def compute() -> tuple[dict[str, CounterfactualResult], dict[str, Any]]:
        texts = art.texts.reset_index(drop=True) if hasattr(art.texts, "reset_index") else list(art.texts)
        n = len(texts)
        idx = np.arange(n)
        if n > params.max_texts:
            idx = np.sort(np.random.default_rng(ctx.seed).choice(n, size=params.max_texts, replace=False))
        sample = [texts[i] for i in idx.tolist()]
        langs = LANGS
        lang = getattr(art, "language", None)
        if lang is not None and len(lang):
            present = {str(x) for x in lang.dropna().unique()} & set(LANGS)
            langs = tuple(sorted(present)) or LANGS
        terms = load_identity_terms(extra=[params.terms_file] if params.terms_file else ())
        cats = params.categories
        if cats is not None:
            known = {c for lg in langs for c in terms.get(lg, {})}
            cats = [c for c in cats if c in known]
        res = counterfactual_flip_rate(sample, predict_proba=art.predict_proba, categories=cats, languages=langs, terms=terms, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
        info = {"texts_scored": len(sample), "texts_total": n, "languages": list(langs), "sample_index": idx}
        return res, info

    return ctx.cached(repr(key), compute)


class _CounterfactualCheck(Check):
    measure_name = ""

    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        return getattr(subject.obj, "texts", None) is not None

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        if not callable(getattr(art, "predict_proba", None)):
            reason = model_kind(art.kind).sources.get(getattr(art, "source", ""), None)
            why = reason.unavailable_reason(self.meta.id) if reason is not None else None
            yield self.skip(subject.label, why or "the model cannot re-score edited texts: identity swaps cannot be measured")
            return
        res, info = run_swaps(art, params, ctx)
        idx = info["sample_index"]
        swappable = {c: r for c, r in res.items() if r.n_swappable > 0}
        empty = sorted(c for c, r in res.items() if r.n_swappable == 0)
        if not swappable:
            yield self.skip(
                subject.label,
                f"no text contains an identity term of the categories tested ({', '.join(sorted(res)) or 'none'}): swaps cannot be measured",
                evidence={"texts_scored": info["texts_scored"], "languages": info["languages"]},
            )
            return
        for cat, r in sorted(swappable.items()):
            evidence = {
                "category": cat,
                "texts_scored": info["texts_scored"],
                "texts_total": info["texts_total"],
                "texts_with_terms": r.n_swappable,
                "terms_swapped": r.n_swapped_terms,
                "flipped": r.n_flipped,
                "flip_rate": r.flip_rate.to_dict(),
                "mean_abs_change": r.mean_abs_change.to_dict(),
                "flipped_row_indices": [int(idx[i]) for i in r.flipped_indices],
                "largest_change_row_indices": [int(idx[i]) for i in r.largest_change_indices],
                "languages": info["languages"],
                "categories_without_terms": empty,
            }
            label = f"{subject.label}/swap:{cat}"
            outcome = self.judge_category(label, r, evidence, params)
            if r.n_swappable < params.min_texts:
                outcome = Outcome(
                    subject=label,
                    status=Status.SKIPPED,
                    message=f"only {r.n_swappable} texts contain {cat} terms (fewer than {params.min_texts}): measured but not judged; {outcome.message}",
                    observed=outcome.observed,
                    threshold=outcome.threshold,
                    evidence={**outcome.evidence, "statistically_clear": False, "judged": False},
                )
            yield outcome

    def judge_category(self, label: str, r: CounterfactualResult, evidence: dict[str, Any], params: Any) -> Outcome:
        raise NotImplementedError


@register
class CounterfactualFlipRate(_CounterfactualCheck):
    meta = CheckMeta(
        id="nlp.counterfactual_flip_rate",
        title="Prediction flips when identity terms are swapped (he/she, names, nationality, religion)",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.TEXT_CLASSIFIER,),
        regulations=TEXT_REGULATIONS,
        provenance=Provenance.LIBRARY,
        formula="for each identity category: texts containing a term are rewritten with the paired terms (English and Chinese lists); flip rate = share whose predicted label changes; bootstrap CI over texts",
        default_threshold="< 0.05 (library default: Giskard's ethical-bias detector)",
        help="A text model whose decision changes when only 'he' becomes 'she' treats people differently because of who they are.",
    )
    Params = FlipParams

    def judge_category(self, label: str, r: CounterfactualResult, evidence: dict[str, Any], params: FlipParams) -> Outcome:
        e = r.flip_rate
        lo, hi = num(e.ci_low), num(e.ci_high)
        # one-sided exact binomial test of a flip rate at or above the limit
        p = float(stats.binomtest(r.n_flipped, r.n_swappable, p=params.max_flip_rate, alternative="greater").pvalue) if params.max_flip_rate > 0 else None
        clear, sentence = clarity(e.value, lo, hi, p, params.max_flip_rate, "<", params.confidence)
        evidence.update({"ci": [lo, hi], "p_value": p, "test": "binomial (one-sided, against the limit)", "statistically_clear": clear})
        note = f"{r.n_flipped} of {r.n_swappable} texts with {r.category} terms changed label; {sentence}"
        return self.judge(label, num(e.value), threshold=params.max_flip_rate, op="<", what=f"flip rate under {r.category} swaps", evidence=evidence, note=note)


@register
class CounterfactualScoreGap(_CounterfactualCheck):
    meta = CheckMeta(
        id="nlp.counterfactual_score_gap",
        title="Change of predicted probabilities when identity terms are swapped",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.TEXT_CLASSIFIER,),
        regulations=TEXT_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="mean over texts containing an identity term of |f(x) - f(x')| (half the L1 distance between class-probability vectors; Garg et al. 2019 counterfactual token fairness); bootstrap CI over texts",
        default_threshold="<= 0.05 (no regulatory threshold)",
        help="Even without flipping the label, scores that move with identity words feed biased rankings and thresholds downstream.",
    )
    Params = GapParams

    def judge_category(self, label: str, r: CounterfactualResult, evidence: dict[str, Any], params: GapParams) -> Outcome:
        e = r.mean_abs_change
        lo, hi = num(e.ci_low), num(e.ci_high)
        clear, sentence = clarity(e.value, lo, hi, None, params.max_score_gap, "<=", params.confidence)
        evidence.update({"ci": [lo, hi], "p_value": None, "statistically_clear": clear})
        note = f"over {r.n_swappable} texts with {r.category} terms; {sentence}"
        return self.judge(label, num(e.value), threshold=params.max_score_gap, op="<=", what=f"mean absolute score change under {r.category} swaps", evidence=evidence, note=note)
