"""gov.representativeness: group shares in the evaluated data vs a declared population (EU AI Act Art. 10(3)-(4))."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject, band_labels
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind


class RepresentativenessParams(CheckParams):
    population: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Declared population shares per protected attribute, e.g. {gender: {F: 0.51, M: 0.49}}.",
    )
    max_tv_distance: float = Field(0.1, ge=0, le=1)


@register
class Representativeness(Check):
    meta = CheckMeta(
        id="gov.representativeness",
        title="Representativeness of the data a model was evaluated on",
        category=Category.GOVERNANCE,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.CLASSIFIER, SubjectKind.REGRESSOR),
        regulations=("EU AI Act Art. 10(3)", "EU AI Act Art. 10(4)"),
        provenance=Provenance.TOOL,
        formula="total-variation distance = 1/2 * sum |share in the model's evaluation rows - declared population share| per protected attribute",
        default_threshold="<= 0.1",
        mode="H",
        help="Data that under-represents a group yields a model whose accuracy for that group is unknown.",
    )
    Params = RepresentativenessParams

    def evaluate(self, subject: Subject, params: RepresentativenessParams, ctx: AuditContext) -> Iterable[Outcome]:
        model = subject.obj
        sens = getattr(model, "sensitive", None)
        if not params.population:
            yield self.skip(subject.label, "no population shares declared: set params.population in the policy (an attestation of the intended population)")
            return
        for attr, declared in params.population.items():
            if sens is None or attr not in sens.columns:
                yield self.skip(f"{subject.label}/by:{attr}", f"protected attribute {attr!r} is not recorded for this model's evaluation rows")
                continue
            ds = ctx.datasets.get(getattr(model, "dataset", ""))
            shares = band_labels(sens[attr], ds.bands.get(attr) if ds is not None else None).value_counts(normalize=True)
            total = sum(declared.values()) or 1.0
            groups = set(shares.index) | set(declared)
            tv = 0.5 * sum(abs(float(shares.get(g, 0.0)) - declared.get(g, 0.0) / total) for g in groups)
            yield self.judge(
                f"{subject.label}/by:{attr}",
                tv,
                threshold=params.max_tv_distance,
                op="<=",
                what=f"total-variation distance of {attr} shares from the declared population",
                evidence={"observed_shares": {str(k): round(float(v), 4) for k, v in shares.items()}, "declared_shares": declared, "rows": int(len(sens))},
            )
