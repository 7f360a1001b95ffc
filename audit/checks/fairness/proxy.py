"""Proxy detection: model features that stand in for protected attributes.

These checks run before the explanation checks (stage 10) and leave the
flagged features in ``ctx.facts.flagged_proxies[model_name]`` so reason
codes and attribution checks can treat them like the protected attributes
they encode.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from audit.checks.fairness._common import BAND_SUFFIXES, Grouping, clarity, groupings, no_groups, num, skip_attributes
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.fairness import cramers_v, discretise, protected_attribute_auc, proxy_associations

PROXY_REGULATIONS = ("GDPR Art. 9", "GDPR Art. 22(4)", "EU AI Act Art. 10(2)(f)", "PIPL Art. 24")


class ProxyParams(CheckParams):
    attributes: list[str] | None = Field(None, description="Protected attributes to test; default: every protected attribute recorded with the model.")
    max_rows: int = Field(20_000, ge=100, description="Rows used at most (a seeded sample beyond this).")
    max_levels: int = Field(50, ge=2, description="Text features with more distinct values than this are treated as identifiers and not assessed.")
    min_group_size: int = Field(30, ge=1, description="The attribute is measured but not judged unless two of its groups have at least this many rows.")


def model_features(art: Any) -> tuple[pd.DataFrame, dict[str, str]]:
    """The model's input columns that can be assessed, and why others are left out."""
    X = getattr(art, "X_eval", None)
    left_out: dict[str, str] = {}
    if X is None or X.empty:
        return pd.DataFrame(), left_out
    protected = {str(c) for c in art.sensitive.columns}
    bases = {c[: -len(s)] for c in protected for s in BAND_SUFFIXES if c.endswith(s)}
    cols = []
    for f in art.features:
        if f not in X.columns:
            left_out[f] = "not in the evaluation data"
        elif f in protected or f in bases:
            left_out[f] = "a protected attribute used directly (not a proxy)"
        else:
            cols.append(f)
    return X[cols].reset_index(drop=True), left_out


def _sample(n: int, max_rows: int, seed: int) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def numeric_text(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns holding numbers (blank cells allowed) converted to numbers."""
    out = X.copy()
    for c in X.columns:
        s = X[c]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        text = s.astype("string").str.strip()
        filled = text.notna() & (text != "")
        if not filled.any():
            continue
        parsed = pd.to_numeric(text.where(filled), errors="coerce")
        if parsed[filled].notna().mean() >= 0.95:
            out[c] = parsed.astype(float)
    return out


def _identifier_like(X: pd.DataFrame, max_levels: int) -> dict[str, str]:
    out = {}
    for c in X.columns:
        s = X[c]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
        levels = s.nunique(dropna=True)
        if not numeric and levels > max_levels:
            out[str(c)] = f"identifier-like: {levels} distinct values (assessed by the PII checks instead)"
    return out


def flag_proxies(ctx: AuditContext, model: str, features: Iterable[str]) -> None:
    """Add features to the model's flagged proxy set."""
    ctx.facts.flagged_proxies.setdefault(model, set()).update(features)


class _ProxyCheck(Check):
    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        art = subject.obj
        return getattr(art, "X_eval", None) is not None and getattr(art, "sensitive", None) is not None

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        ctx.facts.flagged_proxies.setdefault(art.name, set())
        if art.sensitive is None or art.sensitive.shape[1] == 0:
            yield no_groups(self, subject.label, {})
            return
        X, left_out = model_features(art)
        X = numeric_text(X)
        ids = _identifier_like(X, params.max_levels) if not X.empty else {}
        left_out.update(ids)
        X = X.drop(columns=list(ids))
        if X.empty or X.shape[1] == 0:
            yield self.skip(subject.label, "no model feature can be assessed as a proxy", evidence={"features_left_out": left_out})
            return
        if len(X) != len(art.sensitive):
            yield self.skip(subject.label, f"evaluation features ({len(X)} rows) are not aligned with the protected attributes ({len(art.sensitive)} rows)")
            return
        groups, skipped, _ = groupings(art.sensitive, art, ctx, params.attributes)
        yield from skip_attributes(self, subject.label, skipped, params.attributes)
        if not groups:
            yield no_groups(self, subject.label, skipped)
            return
        rows = _sample(len(X), params.max_rows, ctx.seed)
        for g in groups:
            label = f"{subject.label}/by:{g.attribute}"
            big = [f"{n} (n={int(k)})" for n, k in zip(g.groups.names, g.groups.sizes, strict=True) if k >= params.min_group_size]
            outcomes = list(self.measure(label, art, X.iloc[rows].reset_index(drop=True), g.labels[rows], g, left_out, params, ctx))
            if len(big) < 2:
                sizes = ", ".join(f"{n} (n={int(k)})" for n, k in zip(g.groups.names, g.groups.sizes, strict=True))
                outcomes = [
                    Outcome(
                        subject=o.subject,
                        status=Status.SKIPPED if o.status in (Status.PASS, Status.FAIL) else o.status,
                        message=f"fewer than two groups of {g.attribute} with n >= {params.min_group_size} ({sizes}): measured but not judged; {o.message}",
                        observed=o.observed,
                        threshold=o.threshold,
                        evidence={**o.evidence, "statistically_clear": False, "judged": False},
                    )
                    for o in outcomes
                ]
            else:
                for o in outcomes:
                    flag_proxies(ctx, art.name, o.evidence.get("flagged_features") or ())
            yield from outcomes

    def measure(self, label: str, art: Any, X: pd.DataFrame, groups: np.ndarray, g: Grouping, left_out: dict[str, str], params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        raise NotImplementedError


class AssociationParams(ProxyParams):
    flag_at: float = Field(0.3, ge=0, le=1, description="Bias-corrected Cramér's V from which a feature is flagged as a proxy.")
    high_at: float = Field(0.5, ge=0, le=1, description="Cramér's V from which the proxy is a high-severity finding.")
    n_bins: int = Field(10, ge=2, le=100, description="Quantile bins of numeric features.")
    n_boot: int = Field(200, ge=0, le=100_000, description="Bootstrap replicates of the strongest feature's V.")
    confidence: float = Field(0.95, gt=0, lt=1)


@register
class ProxyAssociation(_ProxyCheck):
    meta = CheckMeta(
        id="proxy.association",
        title="Model features associated with a protected attribute (proxies)",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.CLASSIFIER, SubjectKind.REGRESSOR),
        regulations=PROXY_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="per model feature (numeric ones cut into quantile bins) and protected attribute: bias-corrected Cramér's V (Bergsma 2013) and normalised mutual information on the evaluation rows; value = largest V; bootstrap CI of the strongest feature's V; chi-squared test of independence",
        default_threshold="flag V >= 0.30, high severity from V >= 0.50 (no regulatory threshold)",
        help="A feature that encodes age, gender or ethnicity lets a model discriminate without ever seeing the attribute; flagged features are excluded from reason codes.",
        provides=("flagged_proxies",),
    )
    Params = AssociationParams

    def measure(self, label: str, art: Any, X: pd.DataFrame, groups: np.ndarray, g: Grouping, left_out: dict[str, str], params: AssociationParams, ctx: AuditContext) -> Iterable[Outcome]:
        table = proxy_associations(X, protected={g.attribute: groups}, n_bins=params.n_bins)
        table = table.sort_values("cramers_v", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
        rows = [
            {"feature": r["feature"], "cramers_v": num(r["cramers_v"]), "nmi": num(r["nmi"]), "levels": int(r["n_levels"]), "flagged": bool(num(r["cramers_v"]) is not None and r["cramers_v"] >= params.flag_at)}
            for r in table.to_dict(orient="records")
        ]
        flagged = [r["feature"] for r in rows if r["flagged"]]
        defined = [r for r in rows if r["cramers_v"] is not None]
        evidence: dict[str, Any] = {
            "attribute": g.attribute,
            "by_feature": rows,
            "flagged_features": flagged,
            "features_left_out": left_out,
            "rows": len(X),
            "flag_at": params.flag_at,
            "high_at": params.high_at,
        }
        if not defined:
            yield self.skip(label, f"Cramér's V is undefined for every feature against {g.attribute} (a single level?)", evidence=evidence)
            return
        top = defined[0]
        f_codes = discretise(X[top["feature"]], n_bins=params.n_bins)
        a_codes = pd.factorize(pd.Series(groups))[0]
        lo = hi = None
        if params.n_boot > 0:
            rng = np.random.default_rng(ctx.seed)
            reps = []
            n = len(f_codes)
            for _ in range(params.n_boot):
                i = rng.integers(0, n, size=n)
                reps.append(cramers_v(f_codes[i], a_codes[i]))
            arr = np.asarray(reps, dtype=float)
            arr = arr[np.isfinite(arr)]
            if arr.size:
                alpha = 1 - params.confidence
                lo, hi = (float(x) for x in np.quantile(arr, [alpha / 2, 1 - alpha / 2]))
                lo, hi = min(lo, top["cramers_v"]), max(hi, top["cramers_v"])
        cont = pd.crosstab(f_codes, a_codes).to_numpy()
        p = float(stats.chi2_contingency(cont, correction=False).pvalue) if min(cont.shape) >= 2 else None
        value = float(top["cramers_v"])
        clear, sentence = clarity(value, lo, hi, p, params.flag_at, "<", params.confidence)
        evidence.update({"ci": [lo, hi], "p_value": p, "statistically_clear": clear, "strongest_feature": top["feature"], "worst_group": None, "best_group": None})
        # below high_at a flagged proxy is a medium finding; from high_at the policy's severity applies
        severity = Severity.MEDIUM if params.flag_at <= value < params.high_at else None
        if flagged:
            listed = ", ".join(f"{r['feature']} (V={r['cramers_v']:.2f})" for r in rows if r["flagged"])
            note = f"proxies of {g.attribute}: {listed}; strongest {top['feature']}: {sentence}"
        else:
            note = f"strongest feature {top['feature']}; {sentence}"
        yield self.judge(label, value, threshold=params.flag_at, op="<", what=f"largest Cramér's V between a feature and {g.attribute}", evidence=evidence, severity=severity, note=note)


class EncodingParams(ProxyParams):
    max_auc: float = Field(0.70, ge=0.5, le=1, description="Cross-validated AUC from which the features jointly encode the attribute.")
    model: Literal["logistic", "gradient_boosting"] = Field("logistic", description="Classifier predicting the attribute.")
    cv: int = Field(5, ge=2, le=20)
    confidence: float = Field(0.95, gt=0, lt=1)


@register
class ProxyRedundantEncoding(_ProxyCheck):
    meta = CheckMeta(
        id="proxy.redundant_encoding",
        title="Protected attribute predictable from the model's features (redundant encoding)",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER, SubjectKind.REGRESSOR),
        regulations=PROXY_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="stratified k-fold cross-validated ROC AUC (one-vs-rest macro for more than two groups) of a classifier predicting the protected attribute from all assessable model features; interval from the spread of the fold AUCs (t distribution)",
        default_threshold="flag AUC >= 0.70 (no regulatory threshold)",
        help="Even when no single feature is a strong proxy, the features together can reveal the attribute; dropping the attribute then removes nothing.",
        provides=("flagged_proxies",),
    )
    Params = EncodingParams

    def measure(self, label: str, art: Any, X: pd.DataFrame, groups: np.ndarray, g: Grouping, left_out: dict[str, str], params: EncodingParams, ctx: AuditContext) -> Iterable[Outcome]:
        res = protected_attribute_auc(X, protected=groups, attribute=g.attribute, model=params.model, cv=params.cv, seed=ctx.seed)
        evidence: dict[str, Any] = {
            "attribute": g.attribute,
            "model": params.model,
            "cv": params.cv,
            "fold_aucs": [num(a) for a in res.fold_aucs],
            "per_group_auc": {c: num(a) for c, a in res.per_class_auc},
            "features": [str(c) for c in X.columns],
            "features_left_out": left_out,
            "rows": res.n,
            "dropped_groups": list(res.dropped_classes),
            "worst_group": max(res.per_class_auc, key=lambda t: t[1])[0] if res.per_class_auc else None,
            "best_group": None,
        }
        if not math.isfinite(res.auc):
            yield self.skip(label, f"fewer than two groups of {g.attribute} to predict", evidence=evidence)
            return
        lo = hi = None
        k = len(res.fold_aucs)
        if k >= 2:
            half = float(stats.t.ppf(0.5 + params.confidence / 2, k - 1)) * res.auc_std * math.sqrt(k / (k - 1)) / math.sqrt(k)
            lo, hi = max(0.0, res.auc - half), min(1.0, res.auc + half)
        clear, sentence = clarity(res.auc, lo, hi, None, params.max_auc, "<", params.confidence)
        evidence.update({"ci": [lo, hi], "p_value": None, "statistically_clear": clear})
        most = evidence["worst_group"]
        note = f"most recognisable group {most}; {sentence}" if most else sentence
        yield self.judge(label, float(res.auc), threshold=params.max_auc, op="<", what=f"cross-validated AUC predicting {g.attribute} from the model's features", evidence=evidence, note=note)
