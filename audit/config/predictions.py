"""Checks on a predictions file (id, y_true, y_pred[, score]) before anything is computed from it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit.core.errors import AuditInputError, ErrorItem

SHOWN_ROWS = 5


def _lines(mask: np.ndarray) -> str:
    """File line numbers (header is line 1) of the first offending rows."""
    rows = np.flatnonzero(mask)[:SHOWN_ROWS] + 2
    more = int(mask.sum()) - len(rows)
    return ", ".join(map(str, rows)) + (f" and {more} more" if more > 0 else "")


def validate_predictions(pred: pd.DataFrame, *, file: str, id_column: str = "id", score_column: str = "score", label_columns: Sequence[str] = ("y_true", "y_pred")) -> None:
    """Refuse duplicate ids, missing labels and missing or out-of-range scores, all at once.

    Each error gives the number of rows and the file lines of the first ones.
    """
    errors: list[ErrorItem] = []
    if id_column in pred.columns:
        ids = pred[id_column].astype("string")
        missing_id = ids.isna().to_numpy(dtype=bool)
        if missing_id.any():
            errors.append(ErrorItem(file=file, path=id_column, message=f"{int(missing_id.sum())} row(s) without an id (lines {_lines(missing_id)})", hint="every prediction needs the id of the row it scores"))
        dup = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~missing_id
        if dup.any():
            n_ids = int(ids[dup].nunique())
            errors.append(
                ErrorItem(
                    file=file, path=id_column,
                    message=f"{n_ids} id(s) appear more than once ({int(dup.sum())} rows, lines {_lines(dup)}); first: {', '.join(map(repr, ids[dup].unique()[:SHOWN_ROWS]))}",
                    hint="keep one prediction per id (the file would count those customers twice)",
                )
            )
    for col in label_columns:
        if col in pred.columns:
            miss = pred[col].isna().to_numpy(dtype=bool)
            if miss.any():
                errors.append(ErrorItem(file=file, path=col, message=f"{int(miss.sum())} row(s) with no {col} (lines {_lines(miss)})", hint=f"fill {col} for every row, or drop those rows"))
    if score_column in pred.columns:
        raw = pred[score_column]
        score = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        not_number = np.isnan(score) & raw.notna().to_numpy(dtype=bool)
        nan = np.isnan(score) & ~not_number
        if not_number.any():
            errors.append(ErrorItem(file=file, path=score_column, message=f"{int(not_number.sum())} score(s) are not numbers (lines {_lines(not_number)})", hint="scores are probabilities between 0 and 1"))
        if nan.any():
            errors.append(ErrorItem(file=file, path=score_column, message=f"{int(nan.sum())} score(s) are missing (NaN or empty; lines {_lines(nan)})", hint="give a score for every row, or leave the score column out"))
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(score) & ((score < 0) | (score > 1) | ~np.isfinite(score))
        if out.any():
            bad = ", ".join(f"{v:g}" for v in score[out][:SHOWN_ROWS])
            errors.append(ErrorItem(file=file, path=score_column, message=f"{int(out.sum())} score(s) outside [0, 1] (lines {_lines(out)}: {bad})", hint="scores must be probabilities of the positive class; rescale them (e.g. a logistic of the margin) or leave the column out"))
    if errors:
        raise AuditInputError(errors)
