"""The target of a classifier: which value is the positive class, and which values exist at all.

A wrong guess here inverts every figure of the audit (credit data coded 1 = good, 2 = bad;
census data whose test file spells the labels ">50K." with a full stop), so the rules are
strict: two classes exactly, the positive one named unless the target reads as yes/no.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.config.reading import show, value_key

YES = frozenset({"yes", "y", "true", "t", "1", "是"})
NO = frozenset({"no", "n", "false", "f", "0", "否"})
SHOWN_VALUES = 8


class LabelError(ValueError):
    """A target that cannot be read as two classes; ``key`` is the config key that fixes it."""

    def __init__(self, message: str, *, key: str, hint: str) -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint


def value_counts_text(values: pd.Series, limit: int = SHOWN_VALUES) -> str:
    """``'>50K' (n=7841), '<=50K' (n=24720)``: values with repr, so spaces and full stops show."""
    counts = values.dropna().map(lambda v: v.item() if isinstance(v, np.generic) else v).value_counts()
    parts = [f"{show(v)} (n={int(n)})" for v, n in counts.head(limit).items()]
    more = len(counts) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def apply_label_map(frame: pd.DataFrame, column: str, label_map: dict[str, str]) -> dict[str, int]:
    """Rewrite target values named in ``label_map`` (matched by their text form); cells rewritten per value."""
    s = frame[column]
    keys = s.map(lambda v: None if pd.isna(v) else value_key(v))
    hit = keys.isin(list(label_map)).to_numpy(dtype=bool)
    counts = {k: int((keys == k).sum()) for k in label_map}
    if hit.any():
        out = s.astype(object).copy()
        out[hit] = keys[hit].map(label_map)
        frame[column] = out
    return counts


def is_yes_no(values: Sequence[Any]) -> bool:
    keys = {value_key(v).strip().lower() for v in values}
    return len(keys) == 2 and len(keys & YES) == 1 and len(keys & NO) == 1


def positive_label(values: pd.Series, positive_labels: Sequence[str], *, column: str = "target") -> Any:
    """The data value that is the positive class of a binary target.

    Raises :class:`LabelError` when the target has fewer or more than two values, when
    no positive label is declared for a target that is not yes/no-like, or when the
    declared label is absent from the data.
    """
    present = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(values.dropna())]
    listing = value_counts_text(values)
    if len(present) > 2:
        return _too_many(present, listing, column)
    if len(present) < 2:
        raise LabelError(
            f"target {column!r} has {'no values' if not present else 'one value, ' + show(present[0])}: a classifier needs two classes",
            key="roles.target", hint="point roles.target at the outcome column, or use data that contains both outcomes",
        )
    if positive_labels:
        wanted = {str(p) for p in positive_labels}
        matched = [v for v in present if value_key(v) in wanted]
        if len(matched) == 1:
            return matched[0]
        if not matched:
            raise LabelError(
                f"positive label(s) {', '.join(map(show, positive_labels))} not found in target {column!r}; its values are {listing}",
                key="positive_labels", hint="write the positive value exactly as it appears above",
            )
        raise LabelError(
            f"both values of target {column!r} are listed in positive_labels ({', '.join(map(show, matched))})",
            key="positive_labels", hint="list only the value that means the positive class",
        )
    if is_yes_no(present):
        return next(v for v in present if value_key(v).strip().lower() in YES)
    raise LabelError(
        f"which value of target {column!r} is the positive class? Its values are {listing}",
        key="positive_labels", hint="name it, e.g. positive_labels: [" + show(str(value_key(present[0]))) + "]",
    )


def _too_many(present: list[Any], listing: str, column: str) -> Any:
    texts = [value_key(v) for v in present]
    canon: dict[str, str] = {}
    merges: dict[str, str] = {}
    for t in sorted(texts, key=len):
        c = t.strip().rstrip(".").strip().lower()
        if c in canon:
            merges[t] = canon[c]
        else:
            canon[c] = t
    if merges:
        example = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in sorted(merges.items())) + "}"
        hint = f"if these are spellings of the same class, merge them: label_map: {example}"
    else:
        example = "{" + ", ".join(f"{t!r}: ..." for t in texts[:3]) + "}"
        hint = f"map every value to one of two classes with label_map: {example}, then name the positive class in positive_labels"
    raise LabelError(f"target {column!r} has {len(present)} values, a classifier needs two: {listing}", key="label_map", hint=hint)


def check_split(values: pd.Series, *, test_size: float, column: str) -> None:
    """Refuse a target too small for a stratified train/test split (sklearn would fail with a traceback)."""
    counts = values.dropna().value_counts()
    n = int(counts.sum())
    n_test = int(np.ceil(n * test_size))
    smallest = int(counts.min()) if len(counts) else 0
    if smallest < 2 or n_test < len(counts) or n - n_test < len(counts):
        raise LabelError(
            f"target {column!r} has too few rows to train and evaluate a model ({value_counts_text(values)}; "
            f"{n_test} would be held out for evaluation with test_size {test_size:g})",
            key="roles.target",
            hint="each class needs at least 2 rows and both the training and the evaluation part need every class: use more data, or audit the model from a predictions file",
        )
