"""One immutable result per audit run; reporters consume only this."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from audit.core.finding import Finding, to_plain
from audit.core.types import Severity, Status

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    fail_on: Severity
    fail_on_new: bool
    blocking: tuple[str, ...]  # finding keys that failed the gate
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "verdict": "PASS" if self.passed else "FAIL",
            "fail_on": self.fail_on.value,
            "fail_on_new": self.fail_on_new,
            "blocking": list(self.blocking),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AuditResult:
    run: Mapping[str, Any]
    policies: tuple[Mapping[str, Any], ...]
    datasets: tuple[Mapping[str, Any], ...]
    models: tuple[Mapping[str, Any], ...]
    findings: tuple[Finding, ...]
    gate: GateVerdict
    attestations: tuple[Mapping[str, Any], ...] = ()
    waivers: tuple[Mapping[str, Any], ...] = ()
    checks: tuple[Mapping[str, Any], ...] = ()
    inputs: tuple[Mapping[str, Any], ...] = ()
    limitations: tuple[str, ...] = ()
    resolved: tuple[Mapping[str, Any], ...] = ()
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def counts(self) -> dict[str, dict[str, int]]:
        by_status = Counter(f.status.value for f in self.findings)
        by_sev = Counter(f.severity.value for f in self.findings if f.status in (Status.FAIL, Status.ERROR))
        return {
            "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
            "failing_by_severity": {s.value: by_sev.get(s.value, 0) for s in Severity},
        }

    def to_dict(self) -> dict[str, Any]:
        from audit import TOOL_NAME, __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": TOOL_NAME, "version": __version__},
            "run": to_plain(self.run),
            "gate": self.gate.to_dict(),
            "counts": self.counts(),
            "policies": to_plain(list(self.policies)),
            "datasets": to_plain(list(self.datasets)),
            "models": to_plain(list(self.models)),
            "checks": to_plain(list(self.checks)),
            "findings": [f.to_dict() for f in self.findings],
            "resolved": to_plain(list(self.resolved)),
            "waivers": to_plain(list(self.waivers)),
            "attestations": to_plain(list(self.attestations)),
            "inputs": to_plain(list(self.inputs)),
            "limitations": list(self.limitations),
            "extras": to_plain(dict(self.extras)),
        }
