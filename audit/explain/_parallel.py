"""Split row-wise explanation work over forked worker processes.

SHAP's tree algorithm and most model ``predict`` calls hold the GIL, so
threads do not help; forked processes inherit the fitted explainer without
pickling it. Used only when the caller asks for ``n_jobs > 1``, the platform
can fork, and there are enough rows to pay for the start-up.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

import numpy as np

__all__: list[str] = []

# rows below which a second process costs more than it saves
MIN_ROWS_PER_WORKER = 200

_STATE: dict[str, Callable[[np.ndarray], Any]] = {}


def _call(chunk: np.ndarray) -> Any:
    return _STATE["func"](chunk)


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def map_rows(func: Callable[[np.ndarray], Any], X: np.ndarray, n_jobs: int | None) -> list[Any]:
    """Apply ``func`` to consecutive row chunks of ``X``; results in row order.

    Returns one result per chunk (a single chunk when run in-process).
    """
    jobs = int(n_jobs or 1)
    if jobs < 0:
        jobs = max(1, mp.cpu_count() + 1 + jobs)
    jobs = min(jobs, max(1, len(X) // MIN_ROWS_PER_WORKER))
    if jobs <= 1 or not can_fork() or _STATE:
        return [func(X)]
    chunks = np.array_split(X, jobs)
    _STATE["func"] = func
    try:
        with mp.get_context("fork").Pool(jobs) as pool:
            return pool.map(_call, chunks)
    finally:
        _STATE.clear()
