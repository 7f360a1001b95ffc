"""gov.dpia_trigger: count the WP248 criteria the audited system meets (GDPR Art. 35)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind


class DPIAParams(CheckParams):
    min_criteria: int = Field(2, ge=1, description="WP248: meeting two or more criteria means a DPIA is required.")
    large_scale_rows: int = Field(5000, ge=1, description="Customers at or above which processing counts as large scale (no legal number; tool default).")
    automated_significant_effect: bool | None = Field(None, description="Do automated decisions have legal or similarly significant effects? None: not declared.")
    systematic_monitoring: bool = False
    service_denial: bool | None = Field(None, description="Can a decision prevent someone from using a service or contract? None: not declared.")
    attestation_id: str = Field("dpia_completed", description="Attestation item that records the DPIA.")


@register
class DPIATrigger(Check):
    meta = CheckMeta(
        id="gov.dpia_trigger",
        title="DPIA trigger: WP248 criteria met by the audited system",
        category=Category.GOVERNANCE,
        severity=Severity.HIGH,
        subjects=(SubjectKind.SYSTEM,),
        regulations=("GDPR Art. 35(1)", "GDPR Art. 35(3)", "PIPL Art. 55", "PIPL Art. 56"),
        provenance=Provenance.GUIDANCE,
        formula="count of WP248 criteria met (evaluation/scoring, automated decision with significant effect, systematic monitoring, sensitive data, large scale, matching datasets, vulnerable subjects, innovative technology, service denial); >= 2 means a DPIA is required, which must then be attested",
        default_threshold="DPIA required when >= 2 criteria are met (guidance: WP248 rev.01)",
        mode="H",
        help="Profiling customers with machine learning at scale usually meets two WP248 criteria: the DPIA must exist before processing.",
        requires=("special_category_hits", "minors_found"),
    )
    Params = DPIAParams

    def evaluate(self, subject: Subject, params: DPIAParams, ctx: AuditContext) -> Iterable[Outcome]:
        kinds = {m.kind for m in ctx.models}
        rows = max((len(d.frame) for d in ctx.datasets.values()), default=0)
        algos = " ".join(str(getattr(m, "algorithm", "")).lower() for m in ctx.models)
        criteria = {
            "evaluation_or_scoring": (bool(kinds & {"classifier", "regressor", "segmentation"}), f"model kinds: {sorted(kinds)}"),
            "automated_decision_significant_effect": (bool(params.automated_significant_effect), "declared in the policy" if params.automated_significant_effect is not None else "not declared: answer the GDPR Art. 22 scope attestation"),
            "systematic_monitoring": (params.systematic_monitoring, "declared in the policy"),
            "sensitive_data": (bool(ctx.facts.special_category_hits), "from pii.special_category"),
            "large_scale": (rows >= params.large_scale_rows, f"largest dataset {rows} rows vs {params.large_scale_rows}"),
            "matching_or_combining_datasets": (len(ctx.datasets) >= 2, f"{len(ctx.datasets)} datasets combined"),
            "vulnerable_data_subjects": (ctx.facts.minors_found, "minors detected in the data"),
            "innovative_technology": (any(a in algos for a in ("mlp", "neural")) or "text_classifier" in kinds, "neural network or NLP models"),
            "service_denial": (bool(params.service_denial), "declared in the policy" if params.service_denial is not None else "not declared"),
        }
        met = [k for k, (v, _) in criteria.items() if v]
        evidence = {"criteria": {k: {"met": v, "basis": why} for k, (v, why) in criteria.items()}, "criteria_met": met}
        attest = ctx.attestations.get(params.attestation_id)
        required = len(met) >= params.min_criteria
        if not required:
            yield Outcome(subject=subject.label, status=Status.PASS, message=f"{len(met)} WP248 criteria met (< {params.min_criteria}): no DPIA required on this evidence", observed=len(met), threshold=params.min_criteria, evidence=evidence)
        elif attest and attest.answered:
            yield Outcome(subject=subject.label, status=Status.PASS, message=f"DPIA required ({len(met)} WP248 criteria met) and attested as done by {attest.attested_by} on {attest.date}", observed=len(met), threshold=params.min_criteria, evidence=evidence)
        else:
            yield Outcome(subject=subject.label, status=Status.FAIL, message=f"DPIA required: {len(met)} WP248 criteria met ({', '.join(met)}) and no DPIA is attested (attestation {params.attestation_id!r} is open)", observed=len(met), threshold=params.min_criteria, evidence=evidence)
