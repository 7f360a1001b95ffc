"""Small deterministic datasets shared by the fairness tests."""

from __future__ import annotations

import numpy as np


def _random(seed: int, n: int, groups: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(groups, dtype=object), size=n)
    y_true = rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, n)
    return y_true, y_pred, g


def _datasets() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = {}
    out["random_3_groups"] = _random(0, 400, ["a", "b", "c"])
    out["random_6_groups"] = _random(1, 900, ["a", "b", "c", "d", "e", "f"])
    y, p, g = _random(2, 300, ["a", "b", "c"])
    y = np.where(g == "c", 0, y)  # group c has no positives: TPR undefined
    out["group_without_positives"] = (y, p, g)
    y, p, g = _random(3, 200, ["a", "b"])
    p = np.where(g == "b", 0, p)  # group b has no predicted positives: precision undefined
    out["group_without_selections"] = (y, p, g)
    y, p, _ = _random(4, 150, ["a"])
    out["one_group"] = (y, p, np.array(["only"] * 150, dtype=object))
    y, _, g = _random(5, 250, ["a", "b", "c"])
    out["all_predictions_zero"] = (y, np.zeros_like(y), g)
    out["all_predictions_one"] = (y, np.ones_like(y), g)
    y, p, g = _random(6, 300, ["a", "b"])
    g = g.copy()
    g[::7] = None
    g[3::11] = np.nan
    out["nan_groups"] = (y, p, g)
    return out


DATASETS = _datasets()
