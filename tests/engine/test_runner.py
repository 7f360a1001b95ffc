from __future__ import annotations

from datetime import date

import pandas as pd

from audit.core.check import Check, CheckMeta, CheckParams
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.policy.loader import ResolvedCheck, load_policies
from audit.runner import _run_one, build_result


class Boom(Check):
    meta = CheckMeta(id="test.boom", title="boom", category=Category.GOVERNANCE, severity=Severity.LOW, subjects=(SubjectKind.DATASET,), regulations=(), provenance=Provenance.TOOL, formula="", default_threshold="")

    def evaluate(self, subject, params, ctx):
        raise ZeroDivisionError("division by zero in test")


def test_crashing_check_is_error_finding(ctx):
    rc = ResolvedCheck(id="test.boom", params=CheckParams(), severity=Severity.LOW, provenance=Provenance.TOOL, regulations=(), subjects=None, source="x")
    subject = next(ctx.subjects(SubjectKind.DATASET))
    [finding] = _run_one(Boom(), rc, subject, ctx)
    assert finding.status is Status.ERROR
    assert "ZeroDivisionError: division by zero in test" in finding.message


def test_default_policy_on_small_context(ctx):
    pol = load_policies(["default"])
    res = build_result(ctx, pol, fail_on=Severity.HIGH, today=date(2026, 11, 1))
    by = {(f.check_id, f.subject): f for f in res.findings}
    df = ctx.datasets["customers"].frame
    # overall null rate of income, computed independently
    miss = by[("dq.missingness", "dataset:customers")]
    assert miss.status is Status.FAIL
    assert abs(miss.observed - df["income"].isna().mean()) < 1e-12
    gap = by[("dq.missingness", "dataset:customers/column:income/by:gender")]
    rates = df["income"].isna().groupby(df["gender"]).mean()
    assert gap.status is Status.FAIL
    assert abs(gap.observed - (rates.max() - rates.min())) < 1e-12
    assert gap.evidence["worst_group"] == "F"
    k = by[("privacy.k_anonymity", "dataset:customers")]
    bands = pd.cut(df["age"], [18, 30, 45, 60, 121], right=False)
    assert k.observed == int(df.groupby([bands, df["zip3"]], observed=True).size().min())
    # no duplicates planted
    assert by[("dq.duplicates", "dataset:customers/exact")].status is Status.PASS
    assert "no regulatory threshold" in miss.message
    # the gate: missingness is medium, so at fail-on high the gate passes
    assert res.gate.passed
    open_items = [a for a in res.attestations if a["state"] == "open"]
    assert {a["id"] for a in open_items} >= {"lawful_basis"}


def test_waiver_applies_and_expired_is_flagged(ctx, write_yaml):
    p = write_yaml(
        "p.yaml",
        """\
metadata: {id: p, title: P, version: "1", jurisdiction: EU}
extends: [default]
checks:
  - id: dq.missingness
    severity: high
waivers:
  - check: dq.missingness
    subject: "dataset:customers"
    reason: legacy import, cleansing scheduled
    approved_by: Head of Data
    expires: 2026-12-31
  - check: dq.missingness
    subject: "*by:gender"
    reason: old waiver
    approved_by: Former DPO
    expires: 2025-01-01
""",
    )
    pol = load_policies([str(p)])
    res = build_result(ctx, pol, fail_on=Severity.HIGH, today=date(2026, 11, 1))
    by = {f.subject: f for f in res.findings if f.check_id == "dq.missingness"}
    assert by["dataset:customers"].status is Status.WAIVED
    expired = by["dataset:customers/column:income/by:gender"]
    assert expired.status is Status.FAIL and expired.waiver["state"] == "expired"
    assert "waiver expired on 2025-01-01" in expired.message
    assert not res.gate.passed
    states = {w["approved_by"]: w["state"] for w in res.waivers}
    assert states == {"Head of Data": "active", "Former DPO": "expired"}
