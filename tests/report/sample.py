"""A realistic AuditResult for report tests and the report benchmark.

The engine runs the built-in checks on a small synthetic customer table; findings,
models and extras that other check families will produce are then added following
the report's evidence conventions (by_group, ci, masked_examples, explanations,
segments, exposure, reason codes), so the report can be exercised on its own.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.checks import load_builtin_checks
from audit.core.context import AuditContext, ColumnRoles, Dataset
from audit.core.finding import Finding
from audit.core.gate import evaluate_gate
from audit.core.result import AuditResult
from audit.core.types import Provenance, Severity, Status, SubjectKind
from audit.policy.loader import load_policies
from audit.runner import build_result

TODAY = date(2026, 11, 1)
CHINESE_EXAMPLE = "张** 的手机号 138****5678"
CHINESE_GROUP = "上海"

POLICY = """\
metadata:
  id: acme_crm
  title: Acme CRM audit policy
  version: "2.1.0"
  jurisdiction: [EU, CN, US-CA, US]
  regulations: [GDPR, EU AI Act, PIPL, CCPA, ECOA, US EEOC]
extends: [default]
waivers:
  - check: dq.missingness
    subject: "dataset:customers/column:income/by:gender"
    reason: income backfill from the billing system is scheduled for Q1
    approved_by: Head of Data, M. Keller
    expires: 2027-03-31
  - check: dq.missingness
    subject: "dataset:customers"
    reason: legacy import accepted during migration
    approved_by: CDO
    expires: 2026-06-30
attestations:
  - id: lawful_basis
    question: What is the lawful basis (GDPR Art. 6) for each processing purpose the CRM models serve?
    regulations: [GDPR Art. 6, PIPL Art. 13]
    answer: Contract (Art. 6(1)(b)) for service scoring; legitimate interest, with a balancing test, for churn outreach.
    attested_by: Jane Doe, Data Protection Officer
    date: 2026-10-20
    evidence: DPIA-2026-014 section 3
"""


def customer_frame(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "gender": rng.choice(["F", "M"], size=n),
            "age": rng.integers(18, 80, size=n),
            "zip3": rng.choice(["100", "200", "300"], size=n),
            "income": rng.normal(50_000, 10_000, size=n).round(0),
            "email": [f"user{i}@example.com" for i in range(n)],
        }
    )
    women = df.index[df["gender"] == "F"]
    df.loc[women[: len(women) // 4], "income"] = np.nan
    return df


def _by_group(rng: np.random.Generator, groups: list[tuple[str, int, float]]) -> list[dict[str, Any]]:
    rows = []
    for name, n, p in groups:
        half = 1.96 * (p * (1 - p) / max(n, 1)) ** 0.5
        rows.append({"group": name, "n": n, "value": round(p, 4), "ci_low": round(max(0.0, p - half), 4), "ci_high": round(min(1.0, p + half), 4), "eligible": n >= 30})
    return rows


def _finding(check_id: str, title: str, category: str, status: Status, severity: Severity, subject: str, kind: SubjectKind, message: str, *, observed: Any = None, threshold: Any = None, provenance: Provenance = Provenance.TOOL, evidence: dict[str, Any] | None = None, regulations: tuple[str, ...] = (), baseline: str | None = None) -> Finding:
    return Finding(
        check_id=check_id, title=title, category=category, status=status, severity=severity, subject=subject,
        subject_kind=kind, message=message, observed=observed, threshold=threshold, threshold_provenance=provenance,
        evidence=evidence or {}, regulations=regulations, baseline=baseline,
    )


SYNTHETIC_CHECKS = [
    {"id": "pii.scan", "title": "Personal data in columns and free text", "category": "privacy", "severity": "high", "regulations": ["GDPR Art. 5(1)(c)", "PIPL Art. 28", "Cal. Civ. Code 1798.140(ae)"], "threshold_provenance": "tool", "formula": "share of rows in which the recognisers find an entity of each type, per column", "default_threshold": "0 unexpected PII columns", "params": {"min_score": 0.6, "sample_rows": 5000}, "help": "", "source": "builtin"},
    {"id": "proxy.detection", "title": "Proxies for protected attributes", "category": "fairness", "severity": "medium", "regulations": ["EU AI Act Art. 10(2)(f)", "Reg B 1002.6(b)"], "threshold_provenance": "tool", "formula": "Cramér's V between each feature and each protected attribute", "default_threshold": "V < 0.3", "params": {"max_association": 0.3}, "help": "", "source": "builtin"},
    {"id": "fairness.selection_rate_ratio", "title": "Selection-rate ratio (four-fifths rule)", "category": "fairness", "severity": "high", "regulations": ["29 CFR 1607.4(D)", "EU AI Act Art. 10(2)(f)", "GDPR Art. 5(1)(a)"], "threshold_provenance": "guidance", "formula": "lowest group rate of the favourable outcome divided by the highest, bootstrap 95% interval", "default_threshold": "ratio >= 0.8", "params": {"min_ratio": 0.8, "n_boot": 500}, "help": "", "source": "builtin"},
    {"id": "fairness.equal_opportunity", "title": "Equal opportunity difference", "category": "fairness", "severity": "medium", "regulations": ["Reg B 1002.4(a)", "ECOA"], "threshold_provenance": "tool", "formula": "largest difference in true-positive rate between groups", "default_threshold": "difference <= 0.1", "params": {"max_difference": 0.1}, "help": "", "source": "builtin"},
    {"id": "explain.reason_codes", "title": "Principal reasons for adverse decisions", "category": "explainability", "severity": "high", "regulations": ["Reg B 1002.9(b)(2)", "GDPR Art. 22(3)", "PIPL Art. 24"], "threshold_provenance": "law", "formula": "share of adverse decisions with at least one specific principal reason", "default_threshold": "every adverse decision", "params": {"max_reasons": 4}, "help": "", "source": "builtin"},
    {"id": "segmentation.sensitive_inference", "title": "Segments that encode a sensitive attribute", "category": "privacy", "severity": "medium", "regulations": ["Cal. Civ. Code 1798.121", "GDPR Art. 9(1)"], "threshold_provenance": "tool", "formula": "largest share of one protected group within a segment", "default_threshold": "share <= 0.8", "params": {"max_share": 0.8}, "help": "", "source": "builtin"},
    {"id": "recsys.exposure_parity", "title": "Exposure parity of recommendations", "category": "fairness", "severity": "low", "regulations": ["EU AI Act Art. 15"], "threshold_provenance": "library", "formula": "ratio of exposure share to relevance share, per group", "default_threshold": "ratio >= 0.8", "params": {"min_ratio": 0.8}, "help": "", "source": "builtin"},
    {"id": "governance.documentation", "title": "Technical documentation present", "category": "governance", "severity": "low", "regulations": ["EU AI Act Art. 11", "EU AI Act Art. 12"], "threshold_provenance": "law", "formula": "required documentation items present", "default_threshold": "all items", "params": {}, "help": "", "source": "builtin"},
    {"id": "fairness.calibration", "title": "Calibration within groups", "category": "fairness", "severity": "medium", "regulations": ["EU AI Act Art. 15(1)"], "threshold_provenance": "tool", "formula": "expected calibration error per group", "default_threshold": "ECE gap <= 0.05", "params": {"max_gap": 0.05}, "help": "", "source": "builtin"},
]


def _model_findings(name: str, rng: np.random.Generator) -> list[Finding]:
    fav = _by_group(rng, [("F", 412, 0.52), ("M", 455, 0.71), (CHINESE_GROUP, 148, 0.63), ("non-binary", 12, 0.58)])
    return [
        _finding(
            "fairness.selection_rate_ratio", "Selection-rate ratio (four-fifths rule)", "fairness", Status.FAIL, Severity.HIGH,
            f"model:{name}/by:gender", SubjectKind.CLASSIFIER,
            "selection-rate ratio 0.732 < minimum 0.8 (threshold from regulator guidance)",
            observed=0.732, threshold=0.8, provenance=Provenance.GUIDANCE,
            evidence={"by_group": fav, "ci": [0.66, 0.80], "p_value": 0.0004, "worst_group": "F", "best_group": "M", "statistically_clear": True, "metric": "rate of favourable outcome", "n_boot": 500, "confidence": 0.95},
            regulations=("29 CFR 1607.4(D)", "EU AI Act Art. 10(2)(f)", "GDPR Art. 5(1)(a)"),
        ),
        _finding(
            "fairness.equal_opportunity", "Equal opportunity difference", "fairness", Status.PASS, Severity.MEDIUM,
            f"model:{name}/by:age_band", SubjectKind.CLASSIFIER,
            "true-positive-rate difference 0.062 <= maximum 0.1 (no regulatory threshold; policy default)",
            observed=0.062, threshold=0.1,
            evidence={"by_group": _by_group(rng, [("18-29", 160, 0.81), ("30-44", 301, 0.84), ("45-59", 288, 0.86), ("60+", 96, 0.80)]), "ci": [0.01, 0.13], "p_value": 0.21, "worst_group": "60+", "best_group": "45-59", "statistically_clear": False, "metric": "true-positive rate", "n_boot": 500},
            regulations=("Reg B 1002.4(a)", "ECOA"),
        ),
        _finding(
            "explain.reason_codes", "Principal reasons for adverse decisions", "explainability", Status.PASS, Severity.HIGH,
            f"model:{name}", SubjectKind.CLASSIFIER, "share of adverse decisions with a specific reason 1 >= minimum 1 (regulatory threshold)",
            observed=1.0, threshold=1.0, provenance=Provenance.LAW, evidence={"decisions_checked": 300, "reasons_per_decision": {"min": 2, "max": 4}},
            regulations=("Reg B 1002.9(b)(2)", "GDPR Art. 22(3)", "PIPL Art. 24"),
        ),
    ]


def _explanations(rng: np.random.Generator, features: list[str], n: int = 200) -> dict[str, Any]:
    weights = np.linspace(1.0, 0.1, len(features))
    shap = rng.normal(size=(n, len(features))) * weights
    return {
        "global": {f: float(np.abs(shap[:, j]).mean()) for j, f in enumerate(features)},
        "sample": {"features": features, "shap": shap.round(4).tolist(), "values_scaled": rng.uniform(size=(n, len(features))).round(3).tolist()},
    }


def realistic_result(workdir: Path, *, scale: int = 1, today: date = TODAY) -> AuditResult:
    """The engine's result on a synthetic CRM table, enriched with model-level evidence.

    ``scale`` multiplies the number of models (and their findings) for the benchmark.
    """
    load_builtin_checks()
    workdir.mkdir(parents=True, exist_ok=True)
    df = customer_frame()
    data_path = workdir / "customers.csv"
    df.to_csv(data_path, index=False)
    policy_path = workdir / "acme_crm.yaml"
    policy_path.write_text(POLICY, encoding="utf-8")
    from audit.config.loader import sha256_file

    roles = ColumnRoles(id="customer_id", protected=["gender"], quasi_identifiers=["age", "zip3"], text=["email"])
    ds = Dataset(name="customers", frame=df, roles=roles, source=str(data_path), sha256=sha256_file(data_path), bands={"age": [18, 30, 45, 60, 121]})
    ctx = AuditContext(datasets={"customers": ds}, models=[], seed=7, limitations=["Model explanations use a sample of 200 customers per model."])
    baseline = {
        "findings": [
            {"check_id": "dq.missingness", "subject": "dataset:customers/column:income/by:gender", "status": "fail", "severity": "medium", "message": "gap 0.25"},
            {"check_id": "privacy.k_anonymity", "subject": "dataset:customers", "status": "fail", "severity": "medium", "message": "smallest equivalence class k 2 < minimum 5"},
            {"check_id": "fairness.selection_rate_ratio", "subject": "model:churn_rf/by:gender", "status": "fail", "severity": "high", "message": "ratio 0.70"},
        ]
    }
    inputs = [
        {"role": "config", "kind": "file", "path": str(workdir / "audit.yaml"), "sha256": "a" * 64},
        {"role": "dataset", "kind": "file", "path": str(data_path), "sha256": sha256_file(data_path)},
        {"role": "policy", "kind": "file", "path": str(policy_path), "sha256": sha256_file(policy_path)},
        {"role": "model", "kind": "file", "path": str(workdir / "churn_rf.skops"), "sha256": "b" * 64},
    ]
    run_extra = {
        "system": {"name": "Acme Retail CRM", "version": "4.2.0", "owner": "Customer Analytics, Acme Retail GmbH", "description": "Churn scoring, credit pre-approval, segmentation and next-best-offer recommendations"},
        "signoff": {"prepared_by": "A. Auditor", "prepared_on": "2026-11-01", "reviewed_by": None, "reviewed_on": None, "approved_by": None, "approved_on": None},
    }
    res = build_result(ctx, load_policies([str(policy_path)]), fail_on=Severity.MEDIUM, inputs=inputs, run_extra=run_extra, baseline=baseline, today=today)

    rng = np.random.default_rng(11)
    findings = list(res.findings)
    findings += [
        _finding(
            "pii.scan", "Personal data in columns and free text", "privacy", Status.FAIL, Severity.HIGH,
            "dataset:customers/column:email", SubjectKind.TEXT_COLUMN, "rows with personal data 1 > maximum 0 (no regulatory threshold; policy default)",
            observed=1.0, threshold=0.0, evidence={"entity_counts": {"EMAIL_ADDRESS": 200}, "rows_by_entity": {"EMAIL_ADDRESS": 200}, "masked_examples": ["u***0@example.com", "u***7@example.com"], "sample_rows": 200},
            regulations=("GDPR Art. 5(1)(c)", "PIPL Art. 28", "Cal. Civ. Code 1798.140(ae)"), baseline="new",
        ),
        _finding(
            "pii.scan", "Personal data in columns and free text", "privacy", Status.FAIL, Severity.HIGH,
            "dataset:customers/column:notes", SubjectKind.TEXT_COLUMN, "rows with personal data 0.085 > maximum 0 (no regulatory threshold; policy default)",
            observed=0.085, threshold=0.0, evidence={"entity_counts": {"PERSON": 12, "CN_PHONE": 7, "CN_ID_CARD": 1}, "rows_by_entity": {"PERSON": 11, "CN_PHONE": 7, "CN_ID_CARD": 1}, "masked_examples": [CHINESE_EXAMPLE, "身份证 1101**********1234"]},
            regulations=("PIPL Art. 28", "GDPR Art. 9(1)"), baseline="new",
        ),
        _finding(
            "proxy.detection", "Proxies for protected attributes", "fairness", Status.FAIL, Severity.MEDIUM,
            "dataset:customers", SubjectKind.DATASET, "strongest association with a protected attribute 0.41 > maximum 0.3 (no regulatory threshold; policy default)",
            observed=0.41, threshold=0.3, evidence={"proxies": [{"feature": "zip3", "protected": "gender", "cramers_v": 0.41}, {"feature": "income", "protected": "gender", "cramers_v": 0.22}], "statistically_clear": True, "ci": [0.33, 0.48]},
            regulations=("EU AI Act Art. 10(2)(f)", "Reg B 1002.6(b)"), baseline="new",
        ),
        _finding(
            "governance.documentation", "Technical documentation present", "governance", Status.FAIL, Severity.LOW,
            "system", SubjectKind.SYSTEM, "documentation items present 7 < minimum 9 (regulatory threshold)",
            observed=7, threshold=9, provenance=Provenance.LAW, evidence={"missing": ["logging retention period", "post-market monitoring plan"]},
            regulations=("EU AI Act Art. 11", "EU AI Act Art. 12"), baseline="new",
        ),
    ]
    models: list[dict[str, Any]] = []
    extras: dict[str, Any] = {"explanations": {}, "segments": {}, "exposure": {}, "reason_code_examples": {}}
    features = ["tenure_months", "monthly_charges", "support_calls", "contract_type", "payment_method", "age", "zip3", "num_products", "late_payments", "last_login_days", "discount_rate", "channel"]
    for k in range(scale):
        sfx = "" if k == 0 else f"_{k + 1}"
        for name, algo, kind in ((f"churn_rf{sfx}", "RandomForestClassifier", "classifier"), (f"credit_lr{sfx}", "LogisticRegression", "classifier")):
            models.append({"name": name, "kind": kind, "algorithm": algo, "purpose": "churn risk flag" if "churn" in name else "credit pre-approval", "dataset": "customers", "features": features, "training_rows": 14000, "metrics": {"accuracy": 0.842, "roc_auc": 0.887, "f1": 0.611, "brier": 0.118}})
            for f in _model_findings(name, rng):
                base = "unchanged" if f.status is Status.FAIL and name == "churn_rf" else ("new" if f.status is Status.FAIL else None)
                findings.append(dataclasses.replace(f, baseline=base))
            extras["explanations"][name] = _explanations(rng, features)
        credit = f"credit_lr{sfx}"
        extras["reason_code_examples"][credit] = [
            {"customer": "C****17", "decision": "declined", "reasons": ["Two or more late payments in the last 12 months", "Short customer relationship (under 6 months)"]},
            {"customer": "C****42", "decision": "declined", "reasons": ["High monthly charges relative to declared income"]},
            {"customer": "C****88", "decision": "approved with lower limit", "reasons": ["Few products held", "No direct-debit payment method"]},
        ]
        seg = f"segments_km{sfx}"
        models.append({"name": seg, "kind": "segmentation", "algorithm": "KMeans (k=4)", "dataset": "customers", "features": features[:6], "training_rows": 20000, "metrics": {"silhouette": 0.31}})
        extras["segments"][seg] = {"composition": {"loyal high value": {"F": 0.38, "M": 0.62}, "price sensitive": {"F": 0.55, "M": 0.45}, "at risk": {"F": 0.83, "M": 0.17}, "new": {"F": 0.49, "M": 0.51}}}
        findings.append(_finding(
            "segmentation.sensitive_inference", "Segments that encode a sensitive attribute", "privacy", Status.FAIL, Severity.MEDIUM,
            f"model:{seg}", SubjectKind.SEGMENTATION, "largest share of one group in a segment 0.83 > maximum 0.8 (no regulatory threshold; policy default)",
            observed=0.83, threshold=0.8, evidence={"segment": "at risk", "group": "F"}, regulations=("Cal. Civ. Code 1798.121", "GDPR Art. 9(1)"), baseline="new",
        ))
        findings.append(_finding(
            "fairness.calibration", "Calibration within groups", "fairness", Status.ERROR, Severity.MEDIUM,
            f"model:{seg}", SubjectKind.SEGMENTATION, "check raised ValueError: segmentation models have no predicted probabilities",
            evidence={"exception": "ValueError", "where": "calibration.py:88"}, regulations=("EU AI Act Art. 15(1)",),
        ))
        rec = f"recs_als{sfx}"
        models.append({"name": rec, "kind": "recommender", "algorithm": "implicit ALS", "features": [], "training_rows": 250000, "metrics": {"precision_at_10": 0.142, "ndcg_at_10": 0.201}})
        extras["exposure"][rec] = {"F": {"exposure_share": 0.41, "relevance_share": 0.49}, "M": {"exposure_share": 0.59, "relevance_share": 0.51}}
        findings.append(_finding(
            "recsys.exposure_parity", "Exposure parity of recommendations", "fairness", Status.PASS, Severity.LOW,
            f"model:{rec}/by:gender", SubjectKind.RECOMMENDER, "exposure-to-relevance ratio 0.837 >= minimum 0.8 (library default; no regulatory threshold)",
            observed=0.837, threshold=0.8, provenance=Provenance.LIBRARY, evidence={"worst_group": "F", "best_group": "M"}, regulations=("EU AI Act Art. 15",),
        ))
    order = {Status.ERROR: 0, Status.FAIL: 1, Status.WAIVED: 2, Status.SKIPPED: 3, Status.PASS: 4}
    findings.sort(key=lambda f: (order[f.status], -f.severity.rank, f.check_id, f.subject))
    gate = evaluate_gate(findings, fail_on=Severity.MEDIUM)
    resolved = list(res.resolved)
    checks = sorted([*res.checks, *SYNTHETIC_CHECKS], key=lambda c: c["id"])
    return dataclasses.replace(
        res,
        findings=tuple(findings),
        gate=gate,
        models=tuple(models),
        checks=tuple(checks),
        resolved=tuple(resolved),
        extras=extras,
    )


def result_from_json(data: dict[str, Any]) -> AuditResult:
    """Rebuild an AuditResult from a findings.json (to re-render a real run's report)."""
    from audit.core.result import GateVerdict

    findings = tuple(
        Finding(
            check_id=f["check_id"], title=f["title"], category=f["category"], status=Status(f["status"]), severity=Severity(f["severity"]),
            subject=f["subject"], subject_kind=SubjectKind(f["subject_kind"]), message=f["message"], observed=f.get("observed"),
            threshold=f.get("threshold"), threshold_provenance=Provenance(f["threshold_provenance"]), evidence=f.get("evidence") or {},
            regulations=tuple(f.get("regulations") or ()), waiver=f.get("waiver"), baseline=f.get("baseline"),
        )
        for f in data["findings"]
    )
    g = data["gate"]
    gate = GateVerdict(passed=g["passed"], fail_on=Severity(g["fail_on"]), fail_on_new=g["fail_on_new"], blocking=tuple(g["blocking"]), reason=g["reason"])
    return AuditResult(
        run=data["run"], policies=tuple(data["policies"]), datasets=tuple(data["datasets"]), models=tuple(data["models"]), findings=findings, gate=gate,
        attestations=tuple(data["attestations"]), waivers=tuple(data["waivers"]), checks=tuple(data["checks"]), inputs=tuple(data["inputs"]),
        limitations=tuple(data["limitations"]), resolved=tuple(data["resolved"]), extras=data.get("extras") or {},
    )
