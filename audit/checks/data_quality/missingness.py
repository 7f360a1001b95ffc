"""dq.missingness: null rate per column and per protected group (GDPR accuracy principle)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from pydantic import Field

from audit.config.reading import show
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject, band_labels
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind
from audit.fairness.counts import N, CountTable


class MissingnessParams(CheckParams):
    max_null_rate: float = Field(0.05, ge=0, le=1, description="Largest acceptable share of missing values in a column.")
    max_group_gap: float = Field(0.05, ge=0, le=1, description="Largest acceptable gap in a column's null rate between protected groups.")
    min_group_size: int = Field(30, ge=1)


@register
class Missingness(Check):
    meta = CheckMeta(
        id="dq.missingness",
        title="Missing values per column and per protected group",
        category=Category.DATA_QUALITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(d)", "EU AI Act Art. 10(2)(h)", "EU AI Act Art. 10(3)"),
        provenance=Provenance.TOOL,
        formula="null rate = missing cells / rows, per column (empty cells, the dataset's na_values and blank text count as missing); group gap = max - min null rate across protected groups (groups of at least min_group_size); a protected attribute with fewer than two distinct values fails",
        default_threshold="null rate <= 5%; group gap <= 5 pp",
        help="Missing data concentrated in one group biases every model trained on it and breaches the accuracy principle.",
    )
    Params = MissingnessParams

    def evaluate(self, subject: Subject, params: MissingnessParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        df = ds.frame
        overall = null_table(ctx, ds, None)
        n_rows = overall.n_rows
        nulls = _null_sums(overall, df.columns)
        rates = (nulls.iloc[0] / n_rows).drop(labels=[c for c in ds.roles.optional if c in df.columns])
        worst_col = str(rates.idxmax())
        per_col = {str(c): round(float(v), 6) for c, v in rates.items() if v > 0}
        yield self.judge(
            subject.label,
            float(rates.max()),
            threshold=params.max_null_rate,
            op="<=",
            what=f"highest null rate ({worst_col})",
            evidence={"null_rate_by_column": per_col, "rows": int(n_rows), "optional_columns_not_judged": list(ds.roles.optional)},
        )
        for attr in ds.roles.protected:
            if attr not in df.columns:
                continue
            present = df[attr][~null_mask(df[attr])]
            distinct = int(present.nunique(dropna=True))
            if distinct < 2:
                only = "" if distinct == 0 else f" ({show(present.iloc[0])} in all {len(present)} rows that have a value)"
                yield self.judge(
                    f"{subject.label}/by:{attr}",
                    distinct,
                    threshold=2,
                    op=">=",
                    what=f"distinct values of protected attribute {attr}" + (" (missing in every row)" if distinct == 0 else only),
                    evidence={"attribute": attr, "rows": int(len(df)), "rows_with_value": int(len(present)), "distinct_values": distinct},
                    note="no group comparison is possible on this attribute, so every fairness check on it is skipped: fill the column from the source system, or remove it from roles.protected and say why",
                )
                continue
            table = null_table(ctx, ds, attr)
            by = _null_sums(table, df.columns)
            sizes = pd.Series(table.frame[N].to_numpy(), index=table.frame[GROUP].astype(str).to_numpy()).groupby(level=0).sum().sort_values(ascending=False, kind="stable")
            eligible = sizes[sizes >= params.min_group_size].index
            if len(eligible) < 2:
                yield self.skip(f"{subject.label}/by:{attr}", f"fewer than two groups of {attr} with n >= {params.min_group_size}")
                continue
            by_group = (by.loc[sorted(eligible)].T / sizes.loc[sorted(eligible)]).T
            gaps = (by_group.max() - by_group.min()).drop(labels=[attr, *ds.roles.optional], errors="ignore")
            col = str(gaps.idxmax())
            rates_g = by_group[col]
            evidence: dict[str, Any] = {
                "column": col,
                "null_rate_by_group": {str(g): round(float(v), 6) for g, v in rates_g.items()},
                "group_sizes": {str(g): int(n) for g, n in sizes.items()},
                "worst_group": str(rates_g.idxmax()),
                "best_group": str(rates_g.idxmin()),
                "excluded_small_groups": [str(g) for g in sizes.index if g not in eligible],
            }
            yield self.judge(
                f"{subject.label}/column:{col}/by:{attr}",
                float(gaps.max()),
                threshold=params.max_group_gap,
                op="<=",
                what=f"null-rate gap across {attr} groups in {col}",
                evidence=evidence,
            )


GROUP = "group"


def null_cells(frame: pd.DataFrame, attribute: str | None, bands: list[float] | None) -> CountTable:
    """Missing cells per column of one chunk, by the attribute's group label (``unknown`` for missing)."""
    keys = {} if attribute is None else {GROUP: band_labels(frame[attribute], bands).astype(object).to_numpy()}
    sums = {f"null:{c}": null_mask(frame[c]).to_numpy(dtype=float) for c in frame.columns}
    return CountTable.from_columns(keys, sums=sums)


def null_table(ctx: AuditContext, ds: Any, attribute: str | None) -> CountTable:
    """The dataset's missing-cell counts: merged partitions from the Dask engine, else one pass here."""
    prepared = ctx.memo.get("missingness_tables", {}).get((ds.name, attribute))
    if prepared is not None:
        return prepared
    return null_cells(ds.frame, attribute, ds.bands.get(attribute) if attribute is not None else None)


def _null_sums(table: CountTable, columns: Iterable[Any]) -> pd.DataFrame:
    """Missing cells per column (columns in data order), one row per group (or one row overall)."""
    f = table.frame
    data = {c: f[f"null:{c}"].to_numpy() for c in columns}
    if GROUP not in table.keys:
        return pd.DataFrame({c: [float(v.sum())] for c, v in data.items()}, columns=list(columns))
    out = pd.DataFrame(data, columns=list(columns))
    out.index = f[GROUP].astype(str).to_numpy()
    return out.groupby(level=0).sum()


def null_mask(series: pd.Series) -> pd.Series:
    """Missing cells, counting blank strings as missing (numbers stored as text often hide blanks)."""
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        return series.isna() | (series.astype("string").str.strip() == "")
    return series.isna()
