"""The project config (audit.yaml): data sources, column roles, models, policies, sign-off."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from audit.core.kinds import kind_names, source_names
from audit.core.options import PIIOptions
from audit.core.types import Severity

KindName = Literal[kind_names()]  # type: ignore[valid-type]
SourceName = Literal[source_names()]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_CSV_ONLY = ("sep", "encoding", "decimal", "thousands", "skipinitialspace")


def _one_char(value: str | None, key: str) -> str | None:
    if value is not None and len(value) != 1:
        raise ValueError(f"{key} must be one character, got {value!r} (write a tab as \"\\t\" in double quotes)")
    return value


class SourceOptions(_Strict):
    """How to read the file. Left out, separator and encoding are sniffed and recorded in the manifest."""

    sep: str | None = Field(default=None, description="Field separator, one character: ',', ';', '\\t' or '|'. Default: sniffed from the first lines.")
    encoding: str | None = Field(default=None, description="Text encoding (utf-8, utf-8-sig, utf-16, latin-1, cp1252, gb18030...). Default: UTF-8, or the byte-order mark's; latin-1 when the file is not valid UTF-8.")
    na_values: list[str] | None = Field(
        default=None,
        description='Cell values read as missing, compared after trimming spaces. Default: "", "?", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "#N/A", "<NA>". Give [] to read only empty cells as missing.',
    )
    decimal: str = Field(default=".", description="Decimal mark of numbers, e.g. ',' for 3,14.")
    thousands: str | None = Field(default=None, description="Thousands separator of numbers, e.g. '.' for 1.000.")
    skipinitialspace: bool = Field(default=False, description="Skip spaces after the separator (values are trimmed anyway; this also lets quoted values follow a space).")

    @field_validator("sep")
    @classmethod
    def _sep(cls, v: str | None) -> str | None:
        v = _one_char(v, "sep")
        if v is not None and (v.isalnum() or v in "\"\n\r"):
            raise ValueError(f"sep {v!r} cannot separate fields; use ',', ';', '\\t' or '|'")
        return v

    @field_validator("decimal", "thousands")
    @classmethod
    def _char(cls, v: str | None, info: Any) -> str | None:
        return _one_char(v, info.field_name)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None:
            import codecs

            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}: use a codec name such as utf-8, utf-8-sig, utf-16, latin-1, cp1252 or gb18030") from None
        return v

    @model_validator(mode="after")
    def _distinct(self) -> SourceOptions:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("thousands and decimal must differ")
        if self.sep is not None and self.sep in (self.decimal, self.thousands):
            raise ValueError("sep must differ from decimal and thousands")
        return self


class Source(_Strict):
    path: str | None = Field(default=None, description="CSV or Parquet file, or a SQLite file with `table`/`query`.")
    format: Literal["csv", "parquet", "sql"] | None = None
    url: str | None = Field(default=None, description="SQLAlchemy URL, e.g. sqlite:///crm.db")
    table: str | None = None
    query: str | None = None
    options: SourceOptions = Field(default_factory=SourceOptions, description="How to read the file: sep, encoding, na_values, decimal, thousands, skipinitialspace.")

    @model_validator(mode="after")
    def _one_of(self) -> Source:
        if not self.path and not self.url:
            raise ValueError("a source needs 'path' (CSV, Parquet, SQLite file) or 'url' (SQLAlchemy URL)")
        if (self.url or self.format == "sql") and not (self.table or self.query):
            raise ValueError("a SQL source needs 'table' or 'query'")
        if self.resolved_format() != "csv":
            given = [k for k in _CSV_ONLY if k in self.options.model_fields_set]
            if given:
                raise ValueError(f"options {given} apply to CSV files only; this source is {self.resolved_format()} (na_values applies to every source)")
        return self

    def resolved_format(self) -> str:
        if self.url or self.format == "sql" or (self.path and self.path.lower().endswith((".db", ".sqlite", ".sqlite3"))):
            return "sql"
        if self.format:
            return self.format
        return "parquet" if self.path and self.path.lower().endswith((".parquet", ".pq")) else "csv"


class Roles(_Strict):
    id: str | None = None
    protected: list[str] = Field(default_factory=list)
    quasi_identifiers: list[str] = Field(default_factory=list)
    sensitive_values: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    target: str | None = None
    timestamps: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)
    optional: list[str] = Field(default_factory=list, description="Columns legitimately empty for part of the population (e.g. a national ID only some customers have).")
    user: str | None = Field(default=None, description="Ratings/texts: the column holding the user (customer) id.")
    item: str | None = Field(default=None, description="Ratings: the column holding the item id.")
    rating: str | None = Field(default=None, description="Ratings: the numeric rating column.")
    category: str | None = Field(default=None, description="Items: the category column (comparable items for the price check, groups for exposure).")
    price: str | None = Field(default=None, description="Items: the price column (enables the price differential check).")


class DatasetConfig(_Strict):
    source: Source
    roles: Roles = Field(default_factory=Roles)
    bands: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Band edges for numeric protected attributes, e.g. age: [18, 30, 45, 60]. Values below the first edge form the band '<18', values at or above the last '>=60', missing values 'unknown'; every check uses these names.",
    )
    language_column: str | None = None
    positive_labels: list[str] = Field(
        default_factory=list,
        description="The target value(s) that mean the positive class (e.g. 'bad', '2', '>50K'). Required unless the target is Yes/No, True/False or 0/1.",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="Target values to rewrite before anything else reads them, e.g. {'>50K.': '>50K', '<=50K.': '<=50K'} to merge spellings into two classes.",
    )
    value_labels: dict[str, dict[str | int | float | bool, str]] = Field(
        default_factory=dict,
        description="Words for coded values, per column: {personal_status: {A91: 'male, divorced', A92: 'female'}}; the words replace the codes in every check and report.",
    )


class RFMConfig(_Strict):
    """Recency, frequency and monetary value per customer, computed from a transactions dataset."""

    dataset: str = Field(description="Transactions dataset (one row per purchase).")
    customer: str = Field(description="Column of the transactions holding the customer id (matched to the segmented dataset's roles.id).")
    date: str = Field(description="Purchase date column.")
    amount: str = Field(description="Purchase amount column.")
    as_of: dt.date | None = Field(default=None, description="Reference date for recency; default: the day after the last purchase.")


class ModelConfig(_Strict):
    name: str
    kind: KindName = "classifier"
    source: SourceName = "train"
    algorithm: str | None = Field(
        default=None,
        description="For source=train: logistic_regression, random_forest, svc, mlp (classifier); linear_regression, ridge, random_forest, gradient_boosting (regressor); kmeans, dbscan (segmentation); user_knn, content, hybrid (recommender).",
    )
    dataset: str
    target: str | None = None
    features: list[str] = Field(default_factory=list)
    purpose: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    path: str | None = Field(default=None, description="skops/pickle model file, predictions CSV, recommendations CSV or segment assignments CSV.")
    trusted_types: list[str] = Field(default_factory=list, description="skops types you have reviewed and trust.")
    threshold: float = 0.5
    adverse_outcome: Literal["positive", "negative"] = Field(
        default="positive", description="Which predicted class is the adverse automated decision."
    )
    test_size: float = Field(default=0.3, gt=0, lt=1)
    users: str | None = Field(default=None, description="Recommender/text classifier: dataset of users (roles.id, protected) joined on the ratings' or texts' user column.")
    items: str | None = Field(default=None, description="Recommender: dataset of items (roles.id, category, price).")
    k: int = Field(default=10, ge=1, le=1000, description="Recommender: length of each recommendation list.")
    consent_column: str | None = Field(default=None, description="Recommender (train): boolean column of the users dataset; users with False get no personalised list.")
    language: Literal["auto", "en", "zh"] = Field(default="auto", description="Text classifier: language of the texts ('auto' detects per text, or use the dataset's language_column).")
    text: str | None = Field(default=None, description="Text classifier: the text column when the dataset declares several.")
    rfm: RFMConfig | None = Field(default=None, description="Segmentation: compute recency, frequency, monetary features from a transactions dataset.")
    treatments: dict[str | int, str] = Field(default_factory=dict, description="Segmentation: the treatment (offer, tier) each segment receives, e.g. {0: gold offer}.")

    @field_validator("treatments")
    @classmethod
    def _segment_names(cls, value: dict[str | int, str]) -> dict[str | int, str]:
        # YAML reads `0: gold` with an integer key; segments are compared by name
        return {str(k): v for k, v in value.items()}


class SignOff(_Strict):
    prepared_by: str | None = None
    prepared_on: dt.date | None = None
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None
    approved_by: str | None = None
    approved_on: dt.date | None = None


class ProjectInfo(_Strict):
    name: str = "CRM system"
    version: str = ""
    owner: str = ""
    description: str = ""


class EngineConfig(_Strict):
    kind: Literal["local", "dask"] = Field(default="local", description="Where the row-wise work runs: this process, or Dask tasks on a cluster.")
    scheduler: str | None = Field(default=None, description="Dask scheduler address, e.g. tcp://10.0.0.5:8786; without it a local cluster is started.")
    workers: int | None = Field(default=None, ge=1, description="Worker processes of a local Dask cluster (default: up to 2).")
    partition_rows: int = Field(default=20_000, ge=100, description="Rows per partition (texts per PII-scan task: a tenth of it).")


class AuditConfig(_Strict):
    project: ProjectInfo = Field(default_factory=ProjectInfo)
    datasets: dict[str, DatasetConfig] = Field(default_factory=dict)
    models: list[ModelConfig] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=lambda: ["default"])
    fail_on: Severity | None = None
    seed: int = 0
    signoff: SignOff = Field(default_factory=SignOff)
    reason_codes: dict[str, str] = Field(default_factory=dict, description="Feature -> plain-language reason.")
    pii: PIIOptions = Field(default_factory=PIIOptions, description="PII scanner options (model, languages, entities, score_threshold, ner, n_process, batch_size).")
    engine: EngineConfig = Field(default_factory=EngineConfig, description="Execution engine for the PII scan, count tables and scoring.")
