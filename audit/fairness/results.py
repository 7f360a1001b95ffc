"""Frozen result records returned by the fairness measurement functions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.fairness._stats import bonferroni

Direction = Literal["above", "below"]
Verdict = Literal["clear_breach", "within_noise", "clear_pass", "undetermined"]

BAD_DIRECTION = "direction must be 'above' or 'below', got {direction!r}"


def _check_direction(direction: str) -> None:
    if direction not in ("above", "below"):
        raise ValueError(BAD_DIRECTION.format(direction=direction))


def _verdict(value: float, ci_low: float, ci_high: float, threshold: float, direction: str) -> Verdict:
    _check_direction(direction)
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return "undetermined"
    if direction == "above":
        if ci_low > threshold:
            return "clear_breach"
        if ci_high <= threshold:
            return "clear_pass"
    else:
        if ci_high < threshold:
            return "clear_breach"
        if ci_low >= threshold:
            return "clear_pass"
    return "within_noise"


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@dataclass(frozen=True)
class Estimate:
    """A single quantity with a bootstrap confidence interval.

    Attributes
    ----------
    metric : str
        Name of the quantity.
    value : float
        Point estimate.
    ci_low, ci_high : float
        Bootstrap confidence bounds (NaN when no bootstrap was run).
    confidence : float
        Confidence level of the interval.
    n_boot : int
        Number of bootstrap draws.
    n : int
        Number of units (rows, users, texts) behind the estimate.
    """

    metric: str
    value: float
    ci_low: float
    ci_high: float
    confidence: float
    n_boot: int
    n: int

    def statistically_clear(self, threshold: float, direction: Direction = "above") -> bool:
        """Whether the whole interval lies beyond ``threshold``.

        Parameters
        ----------
        threshold : float
            Limit the value is judged against.
        direction : {"above", "below"}
            ``"above"``: values greater than the threshold are a breach;
            ``"below"``: values smaller than the threshold are a breach.
        """
        return _verdict(self.value, self.ci_low, self.ci_high, threshold, direction) == "clear_breach"

    def verdict(self, threshold: float, direction: Direction = "above") -> Verdict:
        """Classify as ``clear_breach``, ``clear_pass``, ``within_noise`` or ``undetermined``."""
        return _verdict(self.value, self.ci_low, self.ci_high, threshold, direction)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes ``None``)."""
        return {
            "metric": self.metric,
            "value": _clean(self.value),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "confidence": self.confidence,
            "n_boot": self.n_boot,
            "n": self.n,
        }


@dataclass(frozen=True)
class FairnessResult:
    """A between-group disparity with its uncertainty and per-group table.

    Attributes
    ----------
    metric : str
        Name of the disparity, e.g. ``"demographic_parity_difference"``.
    value : float
        Disparity over the eligible groups (groups of at least
        ``min_group_size`` units whose metric is defined).
    ci_low, ci_high : float
        Bootstrap confidence bounds of ``value``.
    p_value : float
        Test of the worst-off against the best-off eligible group (see ``test``);
        NaN when no test applies.
    by_group : pandas.DataFrame
        One row per group: ``group``, ``n``, one column per per-group metric,
        ``eligible``.
    worst_group, best_group : str or None
        Worst-off and best-off eligible groups.
    excluded_groups : tuple of str
        Groups left out of ``value`` (too small, or metric undefined).
    value_all_groups : float
        The same disparity over every group with a defined metric.
    confidence : float
        Confidence level of the interval.
    n_boot : int
        Number of bootstrap draws.
    test : str
        ``"z"``, ``"fisher"``, ``"chi2"``, ``"welch_t"``, ``"permutation"`` or ``"none"``.
    p_value_adjusted : float
        ``p_value`` with a Bonferroni correction for the number of group pairs
        (the worst/best pair is chosen after looking at the data).
    notes : tuple of str
        Caveats found while computing (e.g. a single group).
    """

    metric: str
    value: float
    ci_low: float
    ci_high: float
    p_value: float
    by_group: pd.DataFrame = field(repr=False, compare=False)
    worst_group: str | None
    best_group: str | None
    excluded_groups: tuple[str, ...]
    value_all_groups: float
    confidence: float
    n_boot: int
    test: str = "none"
    p_value_adjusted: float = math.nan
    notes: tuple[str, ...] = ()

    def statistically_clear(self, threshold: float, direction: Direction = "above") -> bool:
        """Whether the breach is clear: the whole interval lies beyond ``threshold``.

        Parameters
        ----------
        threshold : float
            Limit the disparity is judged against (e.g. 0.1 for a difference,
            0.8 for an impact ratio).
        direction : {"above", "below"}
            ``"above"``: a breach is a value greater than the threshold
            (differences); ``"below"``: a value smaller than it (ratios).

        Returns
        -------
        bool
            ``False`` when the interval straddles the threshold (within noise),
            lies on the passing side, or is undefined.
        """
        return _verdict(self.value, self.ci_low, self.ci_high, threshold, direction) == "clear_breach"

    def verdict(self, threshold: float, direction: Direction = "above") -> Verdict:
        """Classify as ``clear_breach``, ``clear_pass``, ``within_noise`` or ``undetermined``."""
        return _verdict(self.value, self.ci_low, self.ci_high, threshold, direction)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes ``None``; ``by_group`` as records)."""
        records = []
        for row in self.by_group.to_dict(orient="records"):
            records.append(
                {
                    str(k): (_clean(v) if isinstance(v, float) else v.item() if hasattr(v, "item") else v)
                    for k, v in row.items()
                }
            )
        return {
            "metric": self.metric,
            "value": _clean(self.value),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "p_value": _clean(self.p_value),
            "p_value_adjusted": _clean(self.p_value_adjusted),
            "test": self.test,
            "worst_group": self.worst_group,
            "best_group": self.best_group,
            "excluded_groups": list(self.excluded_groups),
            "value_all_groups": _clean(self.value_all_groups),
            "confidence": self.confidence,
            "n_boot": self.n_boot,
            "notes": list(self.notes),
            "by_group": records,
        }


NO_COMPARISON = "fewer than two eligible groups: no between-group comparison"


def too_few_groups(eligible: np.ndarray) -> list[str]:
    """The note of a comparison with fewer than two eligible groups (none otherwise)."""
    return [NO_COMPARISON] if int(eligible.sum()) < 2 else []


def group_table(
    names: Sequence[str],
    sizes: np.ndarray,
    column: str,
    values: np.ndarray,
    eligible: np.ndarray,
    extra: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """A ``by_group`` table: ``group, n``, the ``extra`` columns, ``column``, ``eligible``."""
    by_group = pd.DataFrame({"group": list(names), "n": sizes})
    for key, col in (extra or {}).items():
        by_group[key] = col
    by_group[column] = values
    by_group["eligible"] = eligible
    return by_group


def group_result(
    *,
    metric: str,
    names: Sequence[str],
    eligible: np.ndarray,
    value: float,
    value_all: float,
    ci_low: float,
    ci_high: float,
    p_value: float,
    by_group: pd.DataFrame,
    worst: str | None,
    best: str | None,
    confidence: float,
    n_boot: int,
    test: str,
    notes: Sequence[str],
    p_value_adjusted: float | None = None,
) -> FairnessResult:
    """A :class:`FairnessResult` over the groups ``names``.

    The groups not ``eligible`` are the excluded ones; ``p_value_adjusted``
    defaults to the Bonferroni correction over the eligible groups' pairs.
    """
    return FairnessResult(
        metric=metric,
        value=value,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        by_group=by_group,
        worst_group=worst,
        best_group=best,
        excluded_groups=tuple(names[i] for i in np.flatnonzero(~eligible)),
        value_all_groups=value_all,
        confidence=confidence,
        n_boot=n_boot,
        test=test,
        p_value_adjusted=bonferroni(p_value, int(eligible.sum())) if p_value_adjusted is None else p_value_adjusted,
        notes=tuple(notes),
    )
