"""The CI gate: a pure function of the findings and the fail-on level."""

from __future__ import annotations

from collections.abc import Iterable

from audit.core.finding import Finding
from audit.core.result import GateVerdict
from audit.core.types import Severity, Status

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


def evaluate_gate(
    findings: Iterable[Finding], *, fail_on: Severity = Severity.HIGH, fail_on_new: bool = False
) -> GateVerdict:
    """Fail on any ERROR finding, or any FAIL at or above ``fail_on`` that is not waived.

    A run in which every check was skipped (or no check ran) fails: nothing was measured.

    With ``fail_on_new`` only findings marked ``new`` against a baseline can fail the gate;
    findings without baseline information count as new.
    """
    findings = list(findings)
    blocking: list[str] = []
    errors = 0
    for f in findings:
        if fail_on_new and f.baseline == "unchanged":
            continue
        if f.status is Status.ERROR:
            blocking.append(f.key)
            errors += 1
        elif f.status is Status.FAIL and f.severity >= fail_on:
            blocking.append(f.key)
    measured = any(f.status is not Status.SKIPPED for f in findings)
    if not blocking and not measured:
        return GateVerdict(
            passed=False, fail_on=fail_on, fail_on_new=fail_on_new, blocking=(),
            reason="nothing was measured: every configured check was skipped (see the skip reasons); an audit that measured nothing cannot pass",
        )
    passed = not blocking
    if passed:
        reason = f"no unwaived finding at or above {fail_on.value}" + (" among new findings" if fail_on_new else "")
    else:
        reason = (
            f"{len(blocking) - errors} failing finding(s) at or above {fail_on.value}"
            f" and {errors} check error(s)" + (" among new findings" if fail_on_new else "")
        )
    return GateVerdict(passed=passed, fail_on=fail_on, fail_on_new=fail_on_new, blocking=tuple(blocking), reason=reason)


def exit_code(verdict: GateVerdict) -> int:
    return EXIT_PASS if verdict.passed else EXIT_FAIL
