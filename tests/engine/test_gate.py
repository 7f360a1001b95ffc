from __future__ import annotations

from audit.core.finding import Finding
from audit.core.gate import evaluate_gate, exit_code
from audit.core.types import Severity, Status, SubjectKind


def f(status: Status, sev: Severity, baseline: str | None = None, subject: str = "s") -> Finding:
    return Finding(check_id="dq.missingness", title="t", category="data_quality", status=status, severity=sev, subject=subject, subject_kind=SubjectKind.DATASET, message="m", baseline=baseline)


def test_fail_at_or_above_level():
    assert evaluate_gate([f(Status.FAIL, Severity.MEDIUM)], fail_on=Severity.HIGH).passed
    assert not evaluate_gate([f(Status.FAIL, Severity.HIGH)], fail_on=Severity.HIGH).passed
    assert not evaluate_gate([f(Status.FAIL, Severity.CRITICAL)], fail_on=Severity.HIGH).passed
    assert not evaluate_gate([f(Status.FAIL, Severity.LOW)], fail_on=Severity.LOW).passed


def test_waived_skipped_pass_never_fail():
    for st in (Status.WAIVED, Status.SKIPPED, Status.PASS):
        assert evaluate_gate([f(st, Severity.CRITICAL), f(Status.PASS, Severity.LOW, subject="t")], fail_on=Severity.INFO).passed


def test_nothing_measured_does_not_pass():
    for findings in ([], [f(Status.SKIPPED, Severity.LOW, subject=s) for s in "abc"]):
        v = evaluate_gate(findings)
        assert not v.passed and v.blocking == ()
        assert v.reason.startswith("nothing was measured: every configured check was skipped")
        assert exit_code(v) == 1


def test_error_always_fails():
    v = evaluate_gate([f(Status.ERROR, Severity.INFO)], fail_on=Severity.CRITICAL)
    assert not v.passed and "1 check error" in v.reason
    assert exit_code(v) == 1


def test_fail_on_new_ignores_unchanged():
    findings = [f(Status.FAIL, Severity.HIGH, baseline="unchanged", subject="a")]
    assert not evaluate_gate(findings).passed
    assert evaluate_gate(findings, fail_on_new=True).passed
    findings.append(f(Status.FAIL, Severity.HIGH, baseline="new", subject="b"))
    v = evaluate_gate(findings, fail_on_new=True)
    assert not v.passed and v.blocking == ("dq.missingness::b",)
