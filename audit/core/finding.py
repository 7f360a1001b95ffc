"""The Finding record and the Outcome a check yields before the runner judges waivers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import numpy as np

from audit.core.types import Provenance, Severity, Status, SubjectKind

Scalar = float | int | str | bool | None


def to_plain(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers into JSON-safe plain data."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # DataFrame
        return [to_plain(r) for r in value.to_dict(orient="records")]
    return str(value)


@dataclass(frozen=True)
class Outcome:
    """What a check measured about one subject, judged against the policy threshold."""

    subject: str
    status: Status
    message: str
    observed: Scalar = None
    threshold: Scalar = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    category: str
    status: Status
    severity: Severity
    subject: str
    subject_kind: SubjectKind
    message: str
    observed: Scalar = None
    threshold: Scalar = None
    threshold_provenance: Provenance = Provenance.TOOL
    evidence: Mapping[str, Any] = field(default_factory=dict)
    regulations: tuple[str, ...] = ()
    waiver: Mapping[str, Any] | None = None
    baseline: str | None = None  # new | unchanged (resolved ones live in AuditResult.resolved)

    @property
    def key(self) -> str:
        """Stable identity across runs, used for baselines and SARIF fingerprints."""
        return f"{self.check_id}::{self.subject}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "title": self.title,
            "category": self.category,
            "status": self.status.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "subject_kind": self.subject_kind.value,
            "message": self.message,
            "observed": to_plain(self.observed),
            "threshold": to_plain(self.threshold),
            "threshold_provenance": self.threshold_provenance.value,
            "evidence": to_plain(self.evidence),
            "regulations": list(self.regulations),
            "waiver": to_plain(self.waiver) if self.waiver else None,
            "baseline": self.baseline,
        }
