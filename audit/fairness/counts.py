"""Count tables: group-by counts computed per chunk and merged exactly.

Every parity, calibration, balance, exposure and missingness figure of this
package is a function of a small table of cells, e.g. (gender, age, y_true,
y_pred) -> number of rows, or (group, score bin) -> sum of scores. A
:class:`CountTable` holds such cells for one chunk of rows; tables of
different chunks (files, Parquet row groups, Dask partitions) merge by adding
counts cell by cell, so a figure computed from the merged table is the figure
of the whole data: integer counts are equal exactly, float sums up to the
rounding of a different summation order (relative 1e-15 per addition).

Group labels are reproduced exactly as :func:`audit.fairness.make_groups` makes
them from the full rows: the cells keep each attribute's raw value (banded
attributes keep one representative value per band, so a continuous attribute
does not explode the table), and the labels are built once, after merging,
from the distinct values present. Bootstrap intervals are then multinomial
draws over the merged cells (:func:`audit.fairness._stats.stratified_draws`),
which need neither the rows nor a second pass.

Typical use::

    tables = [classifier_cells(chunk, y_true="churned", y_pred="pred", attributes=["gender", "age"],
                               bands={"age": [18, 30, 45, 60, 121]}) for chunk in chunks]
    table = merge_tables(tables)
    results = disparities_from_counts(table.confusion(["gender", "age"], bands=...))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from audit.fairness.classification import CELLS, GroupConfusion
from audit.fairness.groups import GroupLabels, encode_attribute, make_groups
from audit.fairness.segmentation import ClusterTable

__all__ = [
    "N",
    "CountTable",
    "calibration_from_table",
    "classifier_cells",
    "cluster_cells",
    "merge_tables",
    "missingness_cells",
    "missingness_from_table",
]

#: Name of the row-count column of every table.
N = "n"

MISMATCHED_KEYS = "count tables have different keys: {a} and {b}"
MISMATCHED_SUMS = "count tables have different sum columns: {a} and {b}"
UNKNOWN_KEY = "{name!r} is not a key of the count table (keys: {keys})"
EMPTY = "no count tables to merge"
LENGTH = "column {name!r} has {got} values, expected {expected}"
RESERVED = "{name!r} is reserved for the row count"


@dataclass(frozen=True)
class CountTable:
    """Cells of a group-by: key columns, the row count ``n`` and float sums.

    Attributes
    ----------
    keys : tuple of str
        Key columns, in order.
    sums : tuple of str
        Float columns summed per cell (e.g. scores for calibration).
    frame : DataFrame
        One row per non-empty cell: the keys, ``n`` (int64) and the sums.
        Missing key values are kept as missing (they become ``"unknown"``).
    """

    keys: tuple[str, ...]
    sums: tuple[str, ...]
    frame: pd.DataFrame = field(repr=False)

    @classmethod
    def from_columns(
        cls,
        keys: Mapping[str, ArrayLike],
        *,
        sums: Mapping[str, ArrayLike] | None = None,
        bands: Mapping[str, Sequence[float]] | None = None,
    ) -> CountTable:
        """Count the rows of one chunk per combination of key values.

        Parameters
        ----------
        keys : mapping of column name to array-like
            Key columns of equal length.
        sums : mapping of column name to array-like of float, optional
            Columns summed per cell.
        bands : mapping of column name to band edges, optional
            Banded keys are replaced by one representative value per band
            before counting (same bands must be given when building groups).
        """
        sums = dict(sums or {})
        bands = dict(bands or {})
        names = list(keys)
        if N in names or N in sums:
            raise ValueError(RESERVED.format(name=N))
        first = next(iter(keys.values()), None)
        if first is None:
            first = next(iter(sums.values()), ())
        n = len(first)
        cols: dict[str, object] = {}
        for name in names:
            values = keys[name]
            if len(values) != n:
                raise ValueError(LENGTH.format(name=name, got=len(values), expected=n))
            cols[name] = _band_representative(values, name, bands[name]) if name in bands else _plain(values)
        for name, values in sums.items():
            arr = np.asarray(values, dtype=float).reshape(-1)
            if arr.shape[0] != n:
                raise ValueError(LENGTH.format(name=name, got=arr.shape[0], expected=n))
            cols[name] = arr
        data = pd.DataFrame(cols)
        data[N] = np.ones(n, dtype=np.int64)
        if not names:
            frame = data[[N, *sums]].sum().to_frame().T
            frame[N] = frame[N].astype(np.int64)
        else:
            frame = data.groupby(names, dropna=False, sort=False, observed=True).sum().reset_index()
        return cls(keys=tuple(names), sums=tuple(sums), frame=_tidy(frame, names, tuple(sums)))

    @property
    def n_rows(self) -> int:
        """Rows counted."""
        return int(self.frame[N].sum())

    def merge(self, other: CountTable) -> CountTable:
        """Cell-wise sum of two tables of the same layout."""
        return merge_tables([self, other])

    def key_frame(self) -> pd.DataFrame:
        """The key columns, one row per cell."""
        return self.frame[list(self.keys)]

    def groups(
        self, attributes: Sequence[str], *, bands: Mapping[str, Sequence[float]] | None = None
    ) -> tuple[GroupLabels, np.ndarray]:
        """Groups of the counted rows and the group of every cell.

        Returns
        -------
        groups : GroupLabels
            Names and sizes as :func:`audit.fairness.make_groups` gives them on
            the rows; ``codes`` holds one entry per *cell* (not per row).
        cell_group : ndarray of int64
            Group index of each cell (same as ``groups.codes``).
        """
        for a in attributes:
            if a not in self.keys:
                raise KeyError(UNKNOWN_KEY.format(name=a, keys=", ".join(self.keys)))
        bands = {a: e for a, e in (bands or {}).items() if a in attributes}
        cells = make_groups(self.frame, attributes=list(attributes), bands=bands)
        sizes = np.bincount(cells.codes, weights=self.frame[N].to_numpy(), minlength=cells.n_groups).astype(np.int64)
        g = GroupLabels(codes=cells.codes, names=cells.names, sizes=sizes, attributes=cells.attributes)
        return g, cells.codes

    def confusion(
        self,
        attributes: Sequence[str],
        *,
        bands: Mapping[str, Sequence[float]] | None = None,
        y_true: str | None = "y_true",
        y_pred: str = "y_pred",
        pos_label: object = 1,
    ) -> GroupConfusion:
        """Per-group TN, FP, FN, TP, as :func:`audit.fairness.confusion_by_group` counts them."""
        g, cell_group = self.groups(attributes, bands=bands)
        yp = (self.frame[y_pred].to_numpy() == pos_label).astype(np.int64)
        cell = yp if y_true is None else 2 * (self.frame[y_true].to_numpy() == pos_label).astype(np.int64) + yp
        counts = np.bincount(cell_group * 4 + cell, weights=self.frame[N].to_numpy(), minlength=4 * g.n_groups)
        return GroupConfusion(groups=g.names, counts=counts.reshape(g.n_groups, len(CELLS)).astype(np.int64))

    def clusters(
        self, attributes: Sequence[str], *, cluster: str = "cluster", bands: Mapping[str, Sequence[float]] | None = None
    ) -> ClusterTable:
        """Group-by-cluster counts, as :func:`audit.fairness.cluster_table` counts them."""
        g, cell_group = self.groups(attributes, bands=bands)
        codes, levels = encode_attribute(self.frame[cluster])
        present = np.flatnonzero(np.bincount(codes, weights=self.frame[N].to_numpy(), minlength=len(levels)))
        remap = np.full(len(levels), -1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        c = remap[codes]
        counts = np.bincount(cell_group * present.size + c, weights=self.frame[N].to_numpy(), minlength=g.n_groups * present.size)
        return ClusterTable(
            groups=g.names,
            clusters=tuple(levels[i] for i in present.tolist()),
            counts=counts.reshape(g.n_groups, present.size).astype(np.int64),
        )


def merge_tables(tables: Iterable[CountTable]) -> CountTable:
    """Add the counts and sums of tables with the same keys, cell by cell."""
    tables = list(tables)
    if not tables:
        raise ValueError(EMPTY)
    first = tables[0]
    for t in tables[1:]:
        if t.keys != first.keys:
            raise ValueError(MISMATCHED_KEYS.format(a=list(first.keys), b=list(t.keys)))
        if t.sums != first.sums:
            raise ValueError(MISMATCHED_SUMS.format(a=list(first.sums), b=list(t.sums)))
    if len(tables) == 1:
        return first
    data = pd.concat([t.frame for t in tables], ignore_index=True)
    if not first.keys:
        frame = data.sum().to_frame().T
    else:
        frame = data.groupby(list(first.keys), dropna=False, sort=False, observed=True).sum().reset_index()
    return CountTable(keys=first.keys, sums=first.sums, frame=_tidy(frame, list(first.keys), first.sums))


def _tidy(frame: pd.DataFrame, keys: list[str], sums: tuple[str, ...]) -> pd.DataFrame:
    frame = frame[[*keys, N, *sums]].copy()
    frame[N] = frame[N].astype(np.int64)
    return frame.reset_index(drop=True)


def _plain(values: ArrayLike) -> object:
    if isinstance(values, pd.Series):
        s = values.reset_index(drop=True)
        if isinstance(s.dtype, pd.CategoricalDtype):  # categories of different chunks need not agree
            s = s.astype(object).where(s.notna(), None)
        return s
    arr = np.asarray(values)
    return arr if arr.dtype.kind in "biufb" else arr.astype(object)


def _band_representative(values: ArrayLike, name: str, edges: Sequence[float]) -> np.ndarray:
    """One value per band (its lower edge; below the first edge: edge - 1), missing stays NaN."""
    codes, levels = encode_attribute(values, name=name, bands=edges)
    e = np.asarray(list(edges), dtype=float)
    reps = np.concatenate([[e[0] - 1.0], e[:-1], [e[-1]], [np.nan]])
    assert len(reps) == len(levels)
    return reps[codes]


# ---------------------------------------------------------------------------
# tables for the figures of the package


def classifier_cells(
    data: pd.DataFrame,
    *,
    attributes: Sequence[str],
    y_pred: str,
    y_true: str | None = None,
    y_score: str | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
    n_bins: int = 10,
    pos_label: object = 1,
) -> CountTable:
    """Cells of one chunk for rate disparities and calibration.

    Keys: the attributes, ``y_true`` and ``y_pred`` (as 0/1) and, with scores,
    the calibration bin ``bin``; sums ``y``, ``p`` and ``sq`` = (p - y)^2.
    """
    keys: dict[str, ArrayLike] = {a: data[a] for a in attributes}
    keys["y_pred"] = (np.asarray(data[y_pred]) == pos_label).astype(np.int8)
    y = None
    if y_true is not None:
        y = (np.asarray(data[y_true]) == pos_label).astype(np.int8)
        keys["y_true"] = y
    sums: dict[str, ArrayLike] = {}
    if y_score is not None:
        if y is None:
            raise ValueError("calibration cells need y_true")
        p = np.asarray(data[y_score], dtype=float)
        keys["bin"] = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
        yf = y.astype(float)
        sums = {"y": yf, "p": p, "sq": (p - yf) ** 2}
    return CountTable.from_columns(keys, sums=sums, bands=bands)


def calibration_from_table(
    table: CountTable,
    attributes: Sequence[str],
    *,
    bands: Mapping[str, Sequence[float]] | None = None,
    n_bins: int = 10,
) -> pd.DataFrame:
    """ECE and Brier score per group from :func:`classifier_cells` with scores.

    Same figures as :func:`audit.fairness.calibration_by_group` on the rows:
    ``ece = sum_b |sum(y)_b - sum(p)_b| / n``, ``brier = sum (p - y)^2 / n``.
    """
    g, cell_group = table.groups(attributes, bands=bands)
    f = table.frame
    idx = cell_group * n_bins + f["bin"].to_numpy(dtype=np.int64)
    G = g.n_groups
    sum_y = np.bincount(idx, weights=f["y"].to_numpy(), minlength=G * n_bins).reshape(G, n_bins)
    sum_p = np.bincount(idx, weights=f["p"].to_numpy(), minlength=G * n_bins).reshape(G, n_bins)
    sq = np.bincount(cell_group, weights=f["sq"].to_numpy(), minlength=G)
    sizes = g.sizes.astype(float)
    return pd.DataFrame({"group": list(g.names), "n": g.sizes, "ece": np.abs(sum_y - sum_p).sum(axis=1) / sizes, "brier": sq / sizes})


def cluster_cells(
    data: pd.DataFrame, *, attributes: Sequence[str], cluster: str, bands: Mapping[str, Sequence[float]] | None = None
) -> CountTable:
    """Cells (attributes, cluster) of one chunk for segment balance and distribution distance."""
    keys: dict[str, ArrayLike] = {a: data[a] for a in attributes}
    keys["cluster"] = data[cluster]
    return CountTable.from_columns(keys, bands=bands)


def missingness_cells(
    data: pd.DataFrame, *, attributes: Sequence[str] = (), bands: Mapping[str, Sequence[float]] | None = None
) -> CountTable:
    """Missing cells per column (blank strings count as missing) for one chunk.

    Keys: the attributes; sums: ``null:<column>`` for every column.
    """
    from audit.checks.data_quality.missingness import null_mask

    keys: dict[str, ArrayLike] = {a: data[a] for a in attributes}
    sums = {f"null:{c}": null_mask(data[c]).to_numpy(dtype=float) for c in data.columns}
    return CountTable.from_columns(keys, sums=sums, bands=bands)


def missingness_from_table(
    table: CountTable, attributes: Sequence[str] = (), *, bands: Mapping[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """Null rate of every column, overall (``attributes`` empty) or per group.

    Returns
    -------
    DataFrame
        Index: ``"all"`` or the group names; a column ``n`` and one null-rate
        column per data column.
    """
    columns = [s[len("null:") :] for s in table.sums if s.startswith("null:")]
    f = table.frame
    if not attributes:
        total = float(f[N].sum())
        rates = {c: float(f[f"null:{c}"].sum()) / total for c in columns}
        return pd.DataFrame([{N: int(total), **rates}], index=["all"])
    g, cell_group = table.groups(attributes, bands=bands)
    out = {N: g.sizes}
    for c in columns:
        out[c] = np.bincount(cell_group, weights=f[f"null:{c}"].to_numpy(), minlength=g.n_groups) / g.sizes
    return pd.DataFrame(out, index=list(g.names))
