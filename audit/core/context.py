"""What checks see: the datasets, the models and shared state of one audit run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from audit.core.types import SubjectKind


@dataclass
class ColumnRoles:
    id: str | None = None
    protected: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=list)
    sensitive_values: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    target: str | None = None
    timestamps: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)


def band_labels(series: pd.Series, edges: list[float] | None) -> pd.Series:
    """Group label per row: the band ('<18', '18-29', '>=60') of a numeric value when bands are given,
    the value itself otherwise; missing values are 'unknown'. The same names as the fairness checks use."""
    if edges and pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        from audit.fairness.groups import encode_attribute

        codes, levels = encode_attribute(series, name=str(series.name), bands=edges)
        return pd.Series(pd.Categorical.from_codes(codes, categories=levels), index=series.index).astype("string")
    return series.astype("string").fillna("unknown")


@dataclass
class Dataset:
    name: str
    frame: pd.DataFrame
    roles: ColumnRoles
    source: str  # path, URL (password masked) or "builtin:demo"
    sha256: str
    bands: dict[str, list[float]] = field(default_factory=dict)
    language_column: str | None = None
    preprocessing: dict[str, Any] = field(default_factory=dict)
    reading: dict[str, Any] = field(default_factory=dict)

    def group_labels(self, attr: str) -> pd.Series:
        """Group label per row: banded when the config gives bands, missing values as 'unknown'."""
        return band_labels(self.frame[attr], self.bands.get(attr))

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": int(len(self.frame)),
            "columns": [str(c) for c in self.frame.columns],
            "sha256": self.sha256,
            "source": self.source,
            "roles": {k: v for k, v in self.roles.__dict__.items() if v},
            **({"reading": self.reading} if self.reading else {}),
            **({"preprocessing": self.preprocessing} if self.preprocessing else {}),
        }


@dataclass(frozen=True)
class Subject:
    """One thing a check runs against: a dataset, a text column, or a model artifact."""

    kind: SubjectKind
    name: str
    obj: Any
    dataset: Dataset | None = None
    column: str | None = None

    @property
    def label(self) -> str:
        if self.kind is SubjectKind.SYSTEM:
            return "system"
        if self.kind is SubjectKind.DATASET:
            return f"dataset:{self.name}"
        if self.kind is SubjectKind.TEXT_COLUMN:
            return f"dataset:{self.name}/column:{self.column}"
        if self.kind is SubjectKind.DECISION_LOG:
            return f"decision_log:{self.name}"
        return f"model:{self.name}"


_MODEL_KINDS = {
    "classifier": SubjectKind.CLASSIFIER,
    "regressor": SubjectKind.REGRESSOR,
    "segmentation": SubjectKind.SEGMENTATION,
    "recommender": SubjectKind.RECOMMENDER,
    "text_classifier": SubjectKind.TEXT_MODEL,
    "text_model": SubjectKind.TEXT_MODEL,
}


def model_subject_kind(kind: str) -> SubjectKind:
    return _MODEL_KINDS[kind]


@dataclass
class AuditContext:
    datasets: dict[str, Dataset]
    models: list[Any]
    config: Any = None
    seed: int = 0
    shared: dict[str, Any] = field(default_factory=dict)
    limitations: list[str] = field(default_factory=list)
    system: dict[str, Any] = field(default_factory=dict)
    decision_logs: dict[str, Any] = field(default_factory=dict)  # name -> audit.monitoring.data.DecisionLogData

    def subjects(self, kind: SubjectKind) -> Iterator[Subject]:
        if kind is SubjectKind.SYSTEM:
            yield Subject(kind, "system", self)
        elif kind is SubjectKind.DATASET:
            for ds in self.datasets.values():
                yield Subject(kind, ds.name, ds, dataset=ds)
        elif kind is SubjectKind.DECISION_LOG:
            for name, log in self.decision_logs.items():
                yield Subject(kind, name, log)
        elif kind is SubjectKind.TEXT_COLUMN:
            for ds in self.datasets.values():
                for col in ds.roles.text:
                    yield Subject(kind, ds.name, ds, dataset=ds, column=col)
        else:
            for m in self.models:
                if model_subject_kind(m.kind) is kind:
                    yield Subject(kind, m.name, m, dataset=self.datasets.get(getattr(m, "dataset", "")))

    def model(self, name: str) -> Any:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def cached(self, key: str, factory: Any) -> Any:
        """Memoise expensive shared work (a PII scan, SHAP values) across checks."""
        if key not in self.shared:
            self.shared[key] = factory()
        return self.shared[key]
