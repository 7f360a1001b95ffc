"""Enumerations shared by checks, findings, policies and reporters."""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"


class Category(str, Enum):
    PRIVACY = "privacy"
    FAIRNESS = "fairness"
    EXPLAINABILITY = "explainability"
    DATA_QUALITY = "data_quality"
    PERFORMANCE = "performance"
    GOVERNANCE = "governance"


class SubjectKind(str, Enum):
    """What a check is run against."""

    SYSTEM = "system"
    DATASET = "dataset"
    TEXT_COLUMN = "text_column"
    CLASSIFIER = "classifier"
    REGRESSOR = "regressor"
    SEGMENTATION = "segmentation"
    RECOMMENDER = "recommender"
    TEXT_CLASSIFIER = "text_classifier"
    DECISION_LOG = "decision_log"  # a deployed model's decision log, audited over time (crm-audit monitor)


class Provenance(str, Enum):
    """Where a default threshold comes from. Only LAW is binding text."""

    LAW = "law"
    GUIDANCE = "guidance"
    LIBRARY = "library"
    TOOL = "tool"

    @property
    def phrase(self) -> str:
        return _PROVENANCE_PHRASES[self]


_PROVENANCE_PHRASES = {
    Provenance.LAW: "regulatory threshold",
    Provenance.GUIDANCE: "threshold from regulator guidance",
    Provenance.LIBRARY: "library default; no regulatory threshold",
    Provenance.TOOL: "no regulatory threshold; policy default",
}
