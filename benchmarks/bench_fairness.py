"""Speed and agreement of audit.fairness against Fairlearn's MetricFrame.

Run: ``python benchmarks/bench_fairness.py [--rows 1000000] [--n-boot 1000]``

Both sides get the same rows and the same two protected columns (3 genders x
4 age bands = 12 intersectional groups) and compute five per-group metrics
(selection rate, TPR, FPR, precision, accuracy) and their between-group
differences. audit.fairness additionally computes ``--n-boot`` bootstrap
draws for every difference; MetricFrame computes point estimates only.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairlearn.metrics import (
    MetricFrame,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from audit.fairness import classification_fairness, make_groups

RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision", "accuracy")
TOLERANCE = 1e-9
TARGET_RATIO = 20.0


def make_data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Synthetic scored customers with group-dependent base and selection rates."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(np.array(["F", "M", "X"]), size=rows, p=[0.48, 0.48, 0.04])
    age_band = rng.choice(np.array(["18-29", "30-44", "45-59", "60-119"]), size=rows)
    g_idx = pd.factorize(gender, sort=True)[0]
    a_idx = pd.factorize(age_band, sort=True)[0]
    base = 0.25 + 0.05 * g_idx + 0.03 * a_idx
    y_true = (rng.random(rows) < base).astype(np.int64)
    skill = 0.75 + 0.02 * a_idx - 0.03 * g_idx
    correct = rng.random(rows) < skill
    y_pred = np.where(correct, y_true, 1 - y_true)
    frame = pd.DataFrame({"gender": gender, "age_band": age_band})
    return frame, y_true, y_pred


def run_fairlearn(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray) -> MetricFrame:
    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "precision": functools.partial(precision_score, zero_division=0),
        "accuracy": accuracy_score,
    }
    return MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=frame)


def run_ours(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, n_boot: int) -> dict:
    groups = make_groups(frame, attributes=["gender", "age_band"])
    return classification_fairness(
        y_true,
        y_pred,
        groups=groups,
        metrics=[f"{r}_difference" for r in RATES],
        undefined="zero",
        n_boot=n_boot,
        seed=0,
    )


def compare(mf: MetricFrame, ours: dict) -> float:
    """Largest absolute difference between the two sides' point estimates."""
    worst = 0.0
    by_group = mf.by_group
    differences = mf.difference()
    for rate in RATES:
        result = ours[f"{rate}_difference"]
        table = result.by_group.set_index("group")[rate]
        for (gender, band), value in by_group[rate].items():
            worst = max(worst, abs(float(table[f"gender={gender}|age_band={band}"]) - float(value)))
        worst = max(worst, abs(result.value - float(differences[rate])))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of audit.fairness")
    parser.add_argument("--fairlearn-repeats", type=int, default=1, help="timed runs of MetricFrame")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    frame, y_true, y_pred = make_data(args.rows, args.seed)
    n_groups = frame.drop_duplicates().shape[0]
    print(f"rows={args.rows:,} groups={n_groups} metrics={len(RATES)} n_boot={args.n_boot}")

    fl_times = []
    mf = None
    for _ in range(args.fairlearn_repeats):
        start = time.perf_counter()
        mf = run_fairlearn(frame, y_true, y_pred)
        fl_times.append(time.perf_counter() - start)
    assert mf is not None

    run_ours(frame.head(1000), y_true[:1000], y_pred[:1000], 10)  # warm-up (imports, caches)
    our_times = []
    ours = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = run_ours(frame, y_true, y_pred, args.n_boot)
        our_times.append(time.perf_counter() - start)
    assert ours is not None

    fl = statistics.median(fl_times)
    mine = statistics.median(our_times)
    gap = compare(mf, ours)
    ratio = fl / mine
    print(f"MetricFrame, point estimates only:           {fl:9.3f} s (median of {len(fl_times)})")
    print(f"audit.fairness, points + {args.n_boot} bootstrap draws: {mine:9.3f} s (median of {len(our_times)})")
    print(f"speed-up: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x)")
    print(f"max |difference| of point estimates vs MetricFrame: {gap:.3e} (tolerance {TOLERANCE:g})")
    for rate in RATES:
        r = ours[f"{rate}_difference"]
        print(
            f"  {rate:<22} diff={r.value:.6f}  CI=[{r.ci_low:.6f}, {r.ci_high:.6f}]"
            f"  p={r.p_value:.3g}  worst={r.worst_group}  best={r.best_group}"
        )
    ok = gap <= TOLERANCE and ratio >= TARGET_RATIO
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
