"""Group labels from protected attributes: single, intersectional and banded.

Labels read ``"attribute=value"``; crossed attributes are joined with ``"|"``,
e.g. ``"gender=F|age=18-29"``. A missing value (None, NaN, NA or an empty
string) becomes the explicit level ``"unknown"``: rows are never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

UNKNOWN = "unknown"
DEFAULT_SEPARATOR = "|"

NO_ATTRIBUTES = "at least one protected attribute is required"
MISSING_ATTRIBUTE = "protected attribute {name!r} is not a column of the data"
LENGTH_MISMATCH = "attribute {name!r} has {got} values, expected {expected}"
BAD_BANDS = "bands for {name!r} must be at least two strictly increasing numbers, got {bands!r}"
NON_NUMERIC_BANDED = "attribute {name!r} is banded but has non-numeric values, e.g. {example!r}"
BAD_GROUPS = "groups must be a GroupLabels, a 1-D array of labels or a DataFrame of attributes"
EMPTY_GROUPS = "no rows to group"


@dataclass(frozen=True)
class GroupLabels:
    """Group membership of every row.

    Attributes
    ----------
    codes : ndarray of int64, shape (n,)
        Group index of each row, in ``range(n_groups)``.
    names : tuple of str
        Group label of each index, in a stable order (attribute levels in
        sorted or band order, ``unknown`` last).
    sizes : ndarray of int64, shape (n_groups,)
        Rows per group.
    attributes : tuple of str
        Protected attributes crossed to form the groups.
    """

    codes: np.ndarray = field(repr=False)
    names: tuple[str, ...]
    sizes: np.ndarray
    attributes: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.names)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    @property
    def labels(self) -> np.ndarray:
        """Group label of every row (object array)."""
        return np.asarray(self.names, dtype=object)[self.codes]

    def size_table(self) -> pd.DataFrame:
        """Group sizes: columns ``group``, ``n``, ``share``."""
        total = max(int(self.sizes.sum()), 1)
        return pd.DataFrame({"group": list(self.names), "n": self.sizes.astype(np.int64), "share": self.sizes / total})

    def subset(self, mask: ArrayLike) -> GroupLabels:
        """Groups of a subset of rows (groups absent from the subset are dropped)."""
        sub = self.codes[np.asarray(mask)]
        present, inverse = np.unique(sub, return_inverse=True)
        return GroupLabels(
            codes=inverse.astype(np.int64),
            names=tuple(self.names[i] for i in present),
            sizes=np.bincount(inverse, minlength=present.size).astype(np.int64),
            attributes=self.attributes,
        )


def _is_missing(values: pd.Series) -> np.ndarray:
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        as_str = values.astype("string")
        blank = as_str.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        missing = missing | blank
    return missing


def band_label(low: float, high: float) -> str:
    """Label of the half-open band ``[low, high)``.

    Integer edges give inclusive integer ranges (``18, 30 -> "18-29"``);
    other edges give ``"[0.5, 1.5)"``.
    """
    if float(low).is_integer() and float(high).is_integer():
        return f"{int(low)}-{int(high) - 1}"
    return f"[{low:g}, {high:g})"


def _band_levels(edges: np.ndarray) -> list[str]:
    lo, hi = edges[0], edges[-1]
    below = f"<{int(lo)}" if float(lo).is_integer() else f"<{lo:g}"
    above = f">={int(hi)}" if float(hi).is_integer() else f">={hi:g}"
    inner = [band_label(a, b) for a, b in pairwise(edges)]
    return [below, *inner, above]


def _check_bands(name: str, bands: Sequence[float]) -> np.ndarray:
    edges = np.asarray(list(bands), dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0) or not np.isfinite(edges).all():
        raise ValueError(BAD_BANDS.format(name=name, bands=list(bands)))
    return edges


def encode_attribute(
    values: ArrayLike,
    *,
    name: str = "group",
    bands: Sequence[float] | None = None,
    unknown_label: str = UNKNOWN,
) -> tuple[np.ndarray, list[str]]:
    """Encode one attribute as integer codes and ordered level labels.

    Parameters
    ----------
    values : array-like
        Attribute value of each row.
    name : str
        Attribute name (for error messages).
    bands : sequence of float, optional
        Edges of half-open bands for a continuous attribute; values below the
        first edge or at/above the last get ``"<lo"`` / ``">=hi"`` levels.
    unknown_label : str
        Level given to missing values.

    Returns
    -------
    codes : ndarray of int64
        Level index per row.
    levels : list of str
        Level labels; the last one is ``unknown_label``.
    """
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
    else:
        arr = np.asarray(values)
        series = pd.Series(arr if arr.dtype.kind in "biuf" else arr.astype(object))
    if bands is not None:
        missing = _is_missing(series)
        edges = _check_bands(name, bands)
        numeric = pd.to_numeric(series.where(~missing), errors="coerce").to_numpy(dtype=float)
        bad = ~missing & np.isnan(numeric)
        if bad.any():
            raise ValueError(NON_NUMERIC_BANDED.format(name=name, example=series[np.flatnonzero(bad)[0]]))
        levels = _band_levels(edges)
        codes = np.searchsorted(edges, np.where(missing, edges[0], numeric), side="right")
        codes = codes.astype(np.int64)
        codes[missing] = len(levels)
        return codes, [*levels, unknown_label]
    if isinstance(series.dtype, pd.CategoricalDtype):
        raw = series.cat.codes.to_numpy().astype(np.int64)
        uniques = list(series.cat.categories)
        order = list(range(len(uniques)))
    else:
        raw_codes, uniq = pd.factorize(series, use_na_sentinel=True)
        raw = np.asarray(raw_codes, dtype=np.int64)
        uniques = list(uniq)
        try:
            order = sorted(range(len(uniques)), key=lambda i: uniques[i])
        except TypeError:
            order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
    kept = [i for i in order if not (isinstance(uniques[i], str) and not uniques[i].strip())]
    levels = [str(uniques[i]) for i in kept]
    remap = np.full(len(uniques) + 1, len(levels), dtype=np.int64)  # blank strings -> unknown
    remap[kept] = np.arange(len(kept), dtype=np.int64)
    codes = remap[np.where(raw < 0, len(uniques), raw)]  # NA sentinel -> last slot -> unknown
    return codes, [*levels, unknown_label]


def _compact(codes: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Present keys (ascending) and each row's index among them."""
    if n_keys <= 4 * codes.shape[0] + 1024:
        counts = np.bincount(codes, minlength=n_keys)
        present = np.flatnonzero(counts)
        remap = np.full(n_keys, -1, dtype=np.int64)
        remap[present] = np.arange(present.size, dtype=np.int64)
        return present, remap[codes]
    present, inverse = np.unique(codes, return_inverse=True)
    return present, inverse.astype(np.int64).ravel()


def _columns(data: pd.DataFrame | Mapping[str, ArrayLike], attributes: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in attributes:
        if name not in data:
            raise KeyError(MISSING_ATTRIBUTE.format(name=name))
        out[name] = data[name]
    return out


def make_groups(
    data: pd.DataFrame | Mapping[str, ArrayLike],
    *,
    attributes: Sequence[str],
    bands: Mapping[str, Sequence[float]] | None = None,
    unknown_label: str = UNKNOWN,
    separator: str = DEFAULT_SEPARATOR,
) -> GroupLabels:
    """Cross one or more protected attributes into group labels.

    Parameters
    ----------
    data : DataFrame or mapping of column name to array
        Source of the protected attributes.
    attributes : sequence of str
        Attributes to cross; one attribute gives single-attribute groups.
    bands : mapping of str to sequence of float, optional
        Band edges for continuous attributes, e.g. ``{"age": [18, 30, 45, 60, 120]}``.
    unknown_label : str
        Level for missing values (kept as its own group).
    separator : str
        Joins the ``attribute=value`` parts of an intersectional label.

    Returns
    -------
    GroupLabels
        Only combinations that occur are groups; ``sizes`` gives their counts.
    """
    attributes = list(attributes)
    if not attributes:
        raise ValueError(NO_ATTRIBUTES)
    bands = dict(bands or {})
    cols = _columns(data, attributes)
    n = len(next(iter(cols.values())))
    combined = np.zeros(n, dtype=np.int64)
    level_lists: list[list[str]] = []
    for name in attributes:
        values = cols[name]
        if len(values) != n:
            raise ValueError(LENGTH_MISMATCH.format(name=name, got=len(values), expected=n))
        codes, levels = encode_attribute(values, name=name, bands=bands.get(name), unknown_label=unknown_label)
        combined = combined * len(levels) + codes
        level_lists.append(levels)
    if n == 0:
        raise ValueError(EMPTY_GROUPS)
    radices = [len(levels) for levels in level_lists]
    present, inverse = _compact(combined, int(np.prod(radices, dtype=object)))
    names = []
    for key in present.tolist():
        parts = []
        for name, levels, radix in zip(reversed(attributes), reversed(level_lists), reversed(radices), strict=True):
            key, idx = divmod(key, radix)
            parts.append(f"{name}={levels[idx]}")
        names.append(separator.join(reversed(parts)))
    return GroupLabels(
        codes=inverse,
        names=tuple(names),
        sizes=np.bincount(inverse, minlength=len(names)).astype(np.int64),
        attributes=tuple(attributes),
    )


def group_sets(
    data: pd.DataFrame | Mapping[str, ArrayLike],
    *,
    attributes: Sequence[str],
    bands: Mapping[str, Sequence[float]] | None = None,
    intersectional: bool = True,
    unknown_label: str = UNKNOWN,
    separator: str = DEFAULT_SEPARATOR,
) -> dict[str, GroupLabels]:
    """Single-attribute groupings plus, optionally, their full crossing.

    Returns
    -------
    dict of str to GroupLabels
        Keyed by attribute name, and by the attribute names joined with
        ``separator`` for the intersectional grouping (when more than one).
    """
    attributes = list(attributes)
    out = {
        name: make_groups(data, attributes=[name], bands=bands, unknown_label=unknown_label, separator=separator)
        for name in attributes
    }
    if intersectional and len(attributes) > 1:
        out[separator.join(attributes)] = make_groups(
            data, attributes=attributes, bands=bands, unknown_label=unknown_label, separator=separator
        )
    return out


def as_groups(groups: GroupLabels | ArrayLike | pd.DataFrame, *, unknown_label: str = UNKNOWN) -> GroupLabels:
    """Coerce ``groups`` to :class:`GroupLabels`.

    A :class:`GroupLabels` is returned as is; a DataFrame is crossed over all
    its columns with :func:`make_groups`; a 1-D array of labels is used as is
    (values converted to ``str``, missing values become ``unknown_label``).
    """
    if isinstance(groups, GroupLabels):
        return groups
    if isinstance(groups, pd.DataFrame):
        return make_groups(groups, attributes=[str(c) for c in groups.columns], unknown_label=unknown_label)
    arr = groups if isinstance(groups, pd.Series) else np.asarray(groups, dtype=object)
    if getattr(arr, "ndim", 1) != 1:
        raise ValueError(BAD_GROUPS)
    if len(arr) == 0:
        raise ValueError(EMPTY_GROUPS)
    codes, levels = encode_attribute(arr, unknown_label=unknown_label)
    present, inverse = _compact(codes, len(levels))
    name = str(arr.name) if isinstance(arr, pd.Series) and arr.name is not None else "group"
    return GroupLabels(
        codes=inverse,
        names=tuple(levels[i] for i in present.tolist()),
        sizes=np.bincount(inverse, minlength=present.size).astype(np.int64),
        attributes=(name,),
    )
