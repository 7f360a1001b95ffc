"""What checks see: the datasets, the models and the typed state of one audit run.

Inputs (datasets, models, options from the config) are set before any check runs.
What one check leaves for another is a field of :class:`Facts`; a check names the
facts it writes in ``CheckMeta.provides`` and those it reads in ``CheckMeta.requires``,
and the runner orders checks by those declarations (:mod:`audit.core.order`).
What ends up in the report beside the findings is a field of :class:`ReportExtras`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import pandas as pd

from audit.core.options import PIIOptions
from audit.core.types import SubjectKind

T = TypeVar("T")


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
    user: str | None = None
    item: str | None = None
    rating: str | None = None
    category: str | None = None
    price: str | None = None


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


def model_subject_kind(kind: str) -> SubjectKind:
    from audit.core.kinds import model_kind

    return model_kind(kind).subject


@dataclass(frozen=True)
class Attestation:
    """State of one policy attestation (a question a person answers and signs)."""

    answered: bool
    attested_by: str | None = None
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"answered": self.answered, "attested_by": self.attested_by, "date": self.date}


@dataclass
class Facts:
    """What checks measure for other checks. Every field is a fact name for ``provides``/``requires``.

    A fact no check of the run provided keeps its empty default: a consumer treats it as
    "nothing found by that measurement", which is why the runner records, as a
    limitation, each required fact whose providing checks are not in the policy.
    """

    #: model name -> features flagged as proxies of a protected attribute (fair.proxy_*)
    flagged_proxies: dict[str, set[str]] = field(default_factory=dict)
    #: dataset name -> columns holding direct identifiers (pii.direct_identifiers)
    direct_identifier_columns: dict[str, list[str]] = field(default_factory=dict)
    #: dataset name -> columns holding any personal data (pii.direct_identifiers)
    pii_bearing_columns: dict[str, list[str]] = field(default_factory=dict)
    #: text subject label -> entity type -> rows with a hit (pii.free_text)
    pii_free_text: dict[str, dict[str, int]] = field(default_factory=dict)
    #: subject label -> special category -> rows (pii.special_category)
    special_category_hits: dict[str, dict[str, int]] = field(default_factory=dict)
    #: whether any record belongs to a child (pii.minors)
    minors_found: bool = False
    #: model name -> reason codes of its adverse decisions (explain.reason_codes)
    reason_codes: dict[str, list[Any]] = field(default_factory=dict)


FACT_NAMES: frozenset[str] = frozenset(f.name for f in fields(Facts))


@dataclass
class ReportExtras:
    """Material for the report beside the findings (charts, examples, the evidence manifest)."""

    #: model name -> global SHAP importance, chart sample, explainer, notes
    explanations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: model name -> masked examples of adverse decisions with their reasons
    reason_code_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: model name -> segment composition and sizes
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: model name -> exposure per group of a recommender
    exposure: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: entries for the evidence manifest (e.g. the NLP model's name, version and hash)
    manifest: dict[str, Any] = field(default_factory=dict)
    #: model name -> design of the sample of adverse decisions explained (audit.explain.sampling)
    explanation_sampling: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the sampling design in words, for the methodology section
    sampling: str = ""
    #: the execution engine and the throughput of its partitioned work (PII scan rows/s)
    engine: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass
class AuditContext:
    datasets: dict[str, Dataset]
    models: list[Any]
    config: Any = None
    seed: int = 0
    limitations: list[str] = field(default_factory=list)
    system: dict[str, Any] = field(default_factory=dict)
    #: decision logs audited over time (crm-audit monitor), by name -> audit.monitoring.data.DecisionLogData
    decision_logs: dict[str, Any] = field(default_factory=dict)
    #: the config's ``pii:`` block (defaults when absent)
    pii_options: PIIOptions = field(default_factory=PIIOptions)
    #: the config's ``reason_codes:`` block: feature -> plain-language reason
    reason_code_mapping: dict[str, str] = field(default_factory=dict)
    #: the policy's attestations by id (set by the runner)
    attestations: dict[str, Attestation] = field(default_factory=dict)
    #: the generated demo CRM when the audit runs on it (its snapshot date, its customer table)
    demo: Any = None
    facts: Facts = field(default_factory=Facts)
    report: ReportExtras = field(default_factory=ReportExtras)
    #: memoised computations (a PII scanner, SHAP values), keyed by what they compute
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date | None:
        """The demo CRM's snapshot date (None for a configured audit)."""
        as_of = getattr(self.demo, "as_of", None)
        return pd.Timestamp(as_of).date() if as_of is not None else None

    @property
    def customers_frame(self) -> pd.DataFrame | None:
        """The demo CRM's customer table (consent flags for recommenders), None for a configured audit."""
        frame = getattr(self.demo, "customers", None)
        return frame if isinstance(frame, pd.DataFrame) else None

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

    def cached(self, key: str, factory: Callable[[], T]) -> T:
        """Memoise expensive work (a PII scanner, SHAP values) across checks: a cache, never a channel."""
        if key not in self.memo:
            self.memo[key] = factory()
        return self.memo[key]  # type: ignore[no-any-return]
