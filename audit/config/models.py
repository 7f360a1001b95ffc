"""The project config (audit.yaml): data sources, column roles, models, policies, sign-off."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.core.types import Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    path: str | None = Field(default=None, description="CSV or Parquet file, or a SQLite file with `table`/`query`.")
    format: Literal["csv", "parquet", "sql"] | None = None
    url: str | None = Field(default=None, description="SQLAlchemy URL, e.g. sqlite:///crm.db")
    table: str | None = None
    query: str | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Extra reader options, e.g. sep for CSV.")

    @model_validator(mode="after")
    def _one_of(self) -> Source:
        if not self.path and not self.url:
            raise ValueError("a source needs 'path' (CSV, Parquet, SQLite file) or 'url' (SQLAlchemy URL)")
        if (self.url or self.format == "sql") and not (self.table or self.query):
            raise ValueError("a SQL source needs 'table' or 'query'")
        return self


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


class DatasetConfig(_Strict):
    source: Source
    roles: Roles = Field(default_factory=Roles)
    bands: dict[str, list[float]] = Field(default_factory=dict, description="Bands for continuous protected attributes.")
    language_column: str | None = None
    positive_labels: list[str] = Field(default_factory=lambda: ["Yes", "yes", "True", "true", "1"])


class ModelConfig(_Strict):
    name: str
    kind: Literal["classifier", "regressor", "segmentation", "recommender", "text_classifier"] = "classifier"
    source: Literal["train", "skops", "pickle", "predictions"] = "train"
    algorithm: str | None = Field(
        default=None,
        description="For source=train: logistic_regression, random_forest, svc, mlp, kmeans, dbscan, ...",
    )
    dataset: str
    target: str | None = None
    features: list[str] = Field(default_factory=list)
    purpose: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    path: str | None = Field(default=None, description="skops/pickle model file or predictions CSV.")
    trusted_types: list[str] = Field(default_factory=list, description="skops types you have reviewed and trust.")
    threshold: float = 0.5
    adverse_outcome: Literal["positive", "negative"] = Field(
        default="positive", description="Which predicted class is the adverse automated decision."
    )
    test_size: float = Field(default=0.3, gt=0, lt=1)


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
    pii: dict[str, Any] = Field(default_factory=dict, description="PII scanner options (nlp_model, entities...).")
    engine: EngineConfig = Field(default_factory=EngineConfig, description="Execution engine for the PII scan, count tables and scoring.")
