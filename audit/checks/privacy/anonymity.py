"""k-anonymity, l-diversity and uniqueness over the declared quasi-identifiers."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Dataset, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

_REGS = ("GDPR Recital 26", "PIPL Art. 73(4)")


class _QIParams(CheckParams):
    generalise: dict[str, list[float]] = Field(
        default_factory=dict, description="Bin edges per numeric quasi-identifier; dataset bands are used when absent."
    )


def equivalence_classes(ds: Dataset, generalise: dict[str, list[float]]) -> pd.Series | None:
    """Label of each row's equivalence class over the quasi-identifiers (None if none declared)."""
    qis = [c for c in ds.roles.quasi_identifiers if c in ds.frame.columns]
    if not qis:
        return None
    parts = []
    for c in qis:
        s = ds.frame[c]
        edges = generalise.get(c) or ds.bands.get(c)
        if edges and pd.api.types.is_numeric_dtype(s):
            s = pd.cut(s, bins=edges, right=False, include_lowest=True)
        parts.append(s.astype("string").fillna("unknown"))
    key = parts[0]
    for p in parts[1:]:
        key = key + "|" + p
    return key


class KAnonymityParams(_QIParams):
    k: int = Field(5, ge=1, description="Smallest acceptable equivalence class (5 internal use, 20 for release).")


@register
class KAnonymity(Check):
    meta = CheckMeta(
        id="privacy.k_anonymity",
        title="k-anonymity over quasi-identifiers",
        category=Category.PRIVACY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=_REGS,
        provenance=Provenance.TOOL,
        formula="k = size of the smallest equivalence class of rows sharing all quasi-identifier values (numeric QIs generalised by bands)",
        default_threshold="k >= 5 internal, k >= 20 for release",
        help="A small equivalence class lets anyone who knows those attributes single a customer out.",
    )
    Params = KAnonymityParams

    def evaluate(self, subject: Subject, params: KAnonymityParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        classes = equivalence_classes(ds, params.generalise)
        if classes is None:
            yield self.skip(subject.label, "no quasi-identifiers declared for this dataset (roles.quasi_identifiers)")
            return
        sizes = classes.value_counts()
        below = sizes[sizes < params.k]
        yield self.judge(
            subject.label,
            int(sizes.min()),
            threshold=params.k,
            op=">=",
            what="smallest equivalence class k",
            evidence={
                "quasi_identifiers": list(ds.roles.quasi_identifiers),
                "classes": int(len(sizes)),
                "classes_below_k": int(len(below)),
                "rows_in_classes_below_k": int(below.sum()),
            },
        )


class LDiversityParams(_QIParams):
    l: int = Field(2, ge=1, description="Fewest acceptable distinct sensitive values per equivalence class.")  # noqa: E741


@register
class LDiversity(Check):
    meta = CheckMeta(
        id="privacy.l_diversity",
        title="l-diversity of sensitive values",
        category=Category.PRIVACY,
        severity=Severity.LOW,
        subjects=(SubjectKind.DATASET,),
        regulations=_REGS,
        provenance=Provenance.TOOL,
        formula="l = fewest distinct values of a sensitive attribute within any equivalence class over the quasi-identifiers",
        default_threshold="l >= 2",
        help="A class whose members all share one sensitive value discloses it even when k is large.",
    )
    Params = LDiversityParams

    def evaluate(self, subject: Subject, params: LDiversityParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        classes = equivalence_classes(ds, params.generalise)
        sens = [c for c in ds.roles.sensitive_values if c in ds.frame.columns]
        if classes is None or not sens:
            yield self.skip(subject.label, "needs roles.quasi_identifiers and roles.sensitive_values")
            return
        for col in sens:
            distinct = ds.frame[col].astype("string").fillna("unknown").groupby(classes).nunique()
            yield self.judge(
                f"{subject.label}/column:{col}",
                int(distinct.min()),
                threshold=params.l,
                op=">=",
                what=f"fewest distinct {col} values in a class",
                evidence={"classes": int(len(distinct)), "classes_below_l": int((distinct < params.l).sum())},
            )


class UniquenessParams(_QIParams):
    max_unique_rate: float = Field(0.01, ge=0, le=1, description="Largest acceptable share of records unique on the quasi-identifiers.")


@register
class Uniqueness(Check):
    meta = CheckMeta(
        id="privacy.uniqueness",
        title="Share of records unique on the quasi-identifiers",
        category=Category.PRIVACY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=_REGS,
        provenance=Provenance.TOOL,
        formula="unique rate = rows in equivalence classes of size 1 / rows",
        default_threshold="<= 1%",
        help="Unique records are re-identifiable by linkage with any dataset holding the same attributes.",
    )
    Params = UniquenessParams

    def evaluate(self, subject: Subject, params: UniquenessParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        classes = equivalence_classes(ds, params.generalise)
        if classes is None:
            yield self.skip(subject.label, "no quasi-identifiers declared for this dataset (roles.quasi_identifiers)")
            return
        sizes = classes.map(classes.value_counts())
        rate = float((sizes == 1).mean())
        yield self.judge(subject.label, rate, threshold=params.max_unique_rate, op="<=", what="share of unique records", evidence={"unique_rows": int((sizes == 1).sum()), "rows": int(len(classes))})
