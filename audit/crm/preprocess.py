"""Cleaning, imputation, scaling and one-hot encoding for CRM tables.

Everything the preprocessor changes is counted in ``report_`` because the
GDPR accuracy principle (Art. 5(1)(d)) asks controllers to know how personal
data was altered before a model used it. It also keeps the mapping from every
model input column back to the original feature and the scaler statistics, so
explanations can be reported in original units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

__all__ = ["CRMPreprocessor", "coerce_binary", "coerce_numeric_text"]

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}


def coerce_binary(values: pd.Series) -> pd.Series:
    """Map Yes/No-style text (or booleans) to 1.0/0.0; anything else becomes NaN."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float).where(values.isin([0, 1]))
    text = values.astype(object).map(lambda v: str(v).strip().lower() if isinstance(v, str | bool) else v)
    return text.map(lambda v: 1.0 if v in _TRUE else (0.0 if v in _FALSE else np.nan)).astype(float)


def coerce_numeric_text(values: pd.Series) -> pd.Series:
    """Parse numbers stored as text; blank or whitespace-only cells become NaN."""
    text = values.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    text = text.replace("", np.nan)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


class CRMPreprocessor(TransformerMixin, BaseEstimator):
    """One ColumnTransformer for numeric and categorical CRM features.

    Parameters
    ----------
    numeric, categorical:
        Column names; inferred at ``fit`` when None (after text-number coercion).
    binary:
        Columns holding Yes/No (or True/False) that should become 1/0 and be
        treated as numeric. Declared rather than guessed, so a categorical
        column with two values is not silently reinterpreted.
    id_column:
        Customer identifier; never used as a feature, used by ``clean`` for
        de-duplication.
    drop:
        Columns to ignore entirely.
    deduplicate:
        Whether ``clean`` keeps only the first row per ``id_column``.
    scale:
        Standardise numeric columns (mean 0, unit variance).
    max_categories:
        Cap on one-hot columns per categorical feature; rarer values share one
        "infrequent" column, which keeps high-cardinality text bounded.
    numeric_text_threshold:
        Share of non-blank cells that must parse as numbers before a text
        column is cast to numeric.
    """

    def __init__(
        self,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        binary: Sequence[str] | None = None,
        id_column: str | None = None,
        drop: Sequence[str] | None = None,
        deduplicate: bool = False,
        scale: bool = True,
        max_categories: int | None = 30,
        numeric_text_threshold: float = 0.9,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.binary = binary
        self.id_column = id_column
        self.drop = drop
        self.deduplicate = deduplicate
        self.scale = scale
        self.max_categories = max_categories
        self.numeric_text_threshold = numeric_text_threshold

    # ------------------------------------------------------------------ cleaning
    def clean(self, frame: pd.DataFrame, target: str | None = None) -> pd.DataFrame:
        """Row-level cleaning that cannot live inside a Pipeline step.

        De-duplicates by id, coerces text numbers and Yes/No columns (including
        ``target``), and drops rows whose target is missing. The counts are
        merged into ``report_`` at the next ``fit``.
        """
        df = frame.copy()
        rows_in = len(df)
        duplicates = 0
        if self.deduplicate and self.id_column and self.id_column in df.columns:
            before = len(df)
            df = df.drop_duplicates(subset=[self.id_column], keep="first")
            duplicates = before - len(df)
        binary = set(self.binary or ())
        if target is not None and target in df.columns and _is_text(df[target]):
            binary.add(target)
        df, cast, mapped = self._coerce_frame(df, binary=binary, decide=True)
        dropped = 0
        if target is not None and target in df.columns:
            keep = df[target].notna()
            dropped = int((~keep).sum())
            df = df.loc[keep]
        self._clean_report = {
            "rows_in": rows_in,
            "rows_out": len(df),
            "rows_dropped": dropped,
            "duplicates_removed": duplicates,
            "columns_cast": cast,
            "binary_mapped": mapped,
        }
        return df.reset_index(drop=True)

    def _coerce_frame(
        self, df: pd.DataFrame, binary: set[str], decide: bool
    ) -> tuple[pd.DataFrame, list[str], list[str]]:
        """Apply binary mapping and numeric-text casting.

        With ``decide`` the columns to cast are chosen from the data;
        otherwise the choice made at fit time is replayed so train and
        inference frames get identical treatment.
        """
        df = df.copy()
        mapped: list[str] = []
        for col in sorted(binary):
            if col in df.columns:
                df[col] = coerce_binary(df[col])
                mapped.append(col)
        skip = set(binary) | {self.id_column} | set(self.drop or ()) | set(self.categorical or ())
        cast: list[str] = []
        if decide:
            for col in df.columns:
                if col in skip or not _is_text(df[col]):
                    continue
                stripped = df[col].astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
                present = stripped.replace("", np.nan).dropna()
                if present.empty:
                    continue
                parsed = pd.to_numeric(present, errors="coerce")
                if parsed.notna().mean() >= self.numeric_text_threshold:
                    cast.append(col)
        else:
            cast = [c for c in getattr(self, "cast_columns_", []) if c in df.columns]
        for col in cast:
            df[col] = coerce_numeric_text(df[col])
        for col in df.columns:
            if pd.api.types.is_bool_dtype(df[col]):
                df[col] = df[col].astype(float)
        return df, cast, mapped

    # --------------------------------------------------------------- estimator
    def fit(self, X: pd.DataFrame, y: Any = None) -> CRMPreprocessor:
        """Decide column roles, learn medians/modes/scales and categories."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError("CRMPreprocessor expects a pandas DataFrame (column names carry meaning)")
        binary = set(self.binary or ())
        df, cast, mapped = self._coerce_frame(X, binary=binary, decide=True)
        self.cast_columns_ = cast
        ignore = {self.id_column} | set(self.drop or ())
        if self.numeric is not None:
            numeric = [c for c in self.numeric if c not in ignore]
        else:
            numeric = [c for c in df.columns if c not in ignore and not _is_text(df[c])]
        for col in binary:
            if col in df.columns and col not in numeric and col not in ignore:
                numeric.append(col)
        if self.categorical is not None:
            categorical = [c for c in self.categorical if c not in ignore]
        else:
            categorical = [c for c in df.columns if c not in ignore and c not in numeric and _is_text(df[c])]
        missing = [c for c in [*numeric, *categorical] if c not in df.columns]
        if missing:
            raise KeyError(f"columns not in the frame: {missing}")
        self.numeric_features_ = list(numeric)
        self.categorical_features_ = list(categorical)
        self.feature_names_in_ = np.asarray([*numeric, *categorical], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)

        prepared = self._prepare(df)
        transformers: list[tuple[str, Any, list[str]]] = []
        if numeric:
            steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
            steps.append(("scale", StandardScaler() if self.scale else "passthrough"))
            transformers.append(("num", Pipeline(steps), list(numeric)))
        for col in categorical:
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                max_categories=self.max_categories,
                sparse_output=False,
            )
            steps = [("impute", SimpleImputer(strategy="most_frequent")), ("onehot", encoder)]
            transformers.append((f"cat:{col}", Pipeline(steps), [col]))
        self.column_transformer_ = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
        self.column_transformer_.fit(prepared)

        self._record_names()
        self._record_statistics(prepared)
        report = dict(getattr(self, "_clean_report", {}))
        report.setdefault("rows_in", len(X))
        report.setdefault("rows_out", len(X))
        report.setdefault("rows_dropped", 0)
        report.setdefault("duplicates_removed", 0)
        report["columns_cast"] = sorted(set(report.get("columns_cast", [])) | set(cast))
        report["binary_mapped"] = sorted(set(report.get("binary_mapped", [])) | set(mapped))
        report["values_imputed"] = {c: int(prepared[c].isna().sum()) for c in [*numeric, *categorical]}
        report["imputation_values"] = dict(self.imputation_values_)
        self.report_ = report
        return self

    def _prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """Select the model columns with dtypes the sklearn steps accept."""
        out = pd.DataFrame(index=df.index)
        for col in self.numeric_features_:
            out[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        for col in self.categorical_features_:
            values = df[col].astype(object).map(lambda v: np.nan if pd.isna(v) else str(v))
            out[col] = values.astype(object)
        return out

    def _record_names(self) -> None:
        names: list[str] = []
        origin: dict[str, str] = {}
        for raw in self.column_transformer_.get_feature_names_out():
            block, _, short = str(raw).partition("__")
            feature = short if block == "num" else block.split(":", 1)[1]
            name = short if short not in origin else str(raw)
            names.append(name)
            origin[name] = feature
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.output_to_feature_: dict[str, str] = origin

    def _record_statistics(self, prepared: pd.DataFrame) -> None:
        self.imputation_values_: dict[str, Any] = {}
        self.scaler_mean_: dict[str, float] = {}
        self.scaler_scale_: dict[str, float] = {}
        named = self.column_transformer_.named_transformers_
        if self.numeric_features_:
            num = named["num"]
            medians = num.named_steps["impute"].statistics_
            scaler = num.named_steps["scale"]
            for j, col in enumerate(self.numeric_features_):
                self.imputation_values_[col] = float(medians[j])
                if self.scale:
                    self.scaler_mean_[col] = float(scaler.mean_[j])
                    self.scaler_scale_[col] = float(scaler.scale_[j])
                else:
                    self.scaler_mean_[col] = 0.0
                    self.scaler_scale_[col] = 1.0
        for col in self.categorical_features_:
            self.imputation_values_[col] = named[f"cat:{col}"].named_steps["impute"].statistics_[0]

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Replay coercion, then impute, scale and encode; returns a dense float array."""
        check_is_fitted(self, "column_transformer_")
        df, _, _ = self._coerce_frame(X, binary=set(self.binary or ()), decide=False)
        return np.asarray(self.column_transformer_.transform(self._prepare(df)), dtype=float)

    # ------------------------------------------------------------ introspection
    @property
    def feature_names_out(self) -> list[str]:
        """Model input column names, in transform output order."""
        check_is_fitted(self, "feature_names_out_")
        return list(self.feature_names_out_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def to_original_units(self, column: str, value: float) -> float:
        """Undo standardisation for a numeric output column."""
        check_is_fitted(self, "scaler_mean_")
        feature = self.output_to_feature_.get(column, column)
        if feature not in self.scaler_mean_:
            raise KeyError(f"{column!r} is not a scaled numeric column")
        return float(value) * self.scaler_scale_[feature] + self.scaler_mean_[feature]
