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

    With ``fail_on_new`` only findings marked ``new`` against a baseline can fail the gate;
    findings without baseline information count as new.
    """
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
