"""How the explanation step scales.

Three measurements, printed as tables:

1. TreeSHAP (path-dependent) on a random forest (depth 10, 20 input
   features) for 1k / 5k / 10k explained rows and 50 / 100 / 200 trees.
2. The churn-audit workload per model family (logistic regression, random
   forest, calibrated RBF SVC, MLP) on 2,500 evaluation rows: every adverse
   decision plus a 500-row uniform sample, then reason codes.
3. With ``--demo``: the same on the real demo model stack (10,000 customers),
   training time excluded.

Usage::

    python benchmarks/bench_explain.py                # full grid (several minutes)
    python benchmarks/bench_explain.py --quick        # 1k/2k rows, 50/100 trees
    python benchmarks/bench_explain.py --jobs 2       # fork two worker processes
    python benchmarks/bench_explain.py --demo         # add the demo stack
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.crm.artifacts import ClassifierArtifact
from audit.crm.preprocess import CRMPreprocessor


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """18 numeric features, one 6-level categorical, one binary; churn-like target."""
    rng = np.random.default_rng(seed)
    data = {f"num_{j:02d}": rng.normal(0, 1, n) for j in range(18)}
    data["plan"] = rng.choice(["basic", "plus", "pro", "family", "student", "business"], n)
    data["autopay"] = rng.integers(0, 2, n).astype(float)
    frame = pd.DataFrame(data)
    logit = (
        1.2 * frame["num_00"]
        - 0.8 * frame["num_01"]
        + 0.6 * frame["num_02"] * frame["num_03"]
        + np.where(frame["plan"] == "basic", 0.9, 0.0)
        - 0.7 * frame["autopay"]
        - 1.0
    )
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


FEATURES = [*(f"num_{j:02d}" for j in range(18)), "plan", "autopay"]


def artifact(model, train: pd.DataFrame, test: pd.DataFrame, name: str) -> ClassifierArtifact:
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("prep", CRMPreprocessor()), ("model", model)]).fit(train[FEATURES], train["y"])
    score = pipe.predict_proba(test[FEATURES])[:, 1]
    return ClassifierArtifact(
        name=name,
        algorithm=type(model).__name__,
        purpose="benchmark",
        dataset="synthetic",
        features=FEATURES,
        estimator=pipe,
        ids=np.arange(len(test)),
        X_eval=test[FEATURES].reset_index(drop=True),
        y_true=test["y"].to_numpy(),
        y_pred=(score >= 0.5).astype(int),
        y_score=score,
        favourable_outcome="negative",
        X_train_sample=train[FEATURES].iloc[:200].reset_index(drop=True),
        preprocessor=pipe.named_steps["prep"],
    )


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    line = "  ".join(c.rjust(widths[c]) for c in columns)
    body = ["  ".join(str(r[c]).rjust(widths[c]) for c in columns) for r in rows]
    return "\n".join([line, "  ".join("-" * widths[c] for c in columns), *body])


def tree_grid(row_counts: list[int], tree_counts: list[int], jobs: int) -> None:
    from sklearn.ensemble import RandomForestClassifier

    from audit.explain import explain_classifier

    frame = synthetic(7_500 + max(row_counts), seed=1)
    train, test = frame.iloc[:7_500], frame.iloc[7_500:].reset_index(drop=True)
    results = []
    for trees in tree_counts:
        model = RandomForestClassifier(n_estimators=trees, max_depth=10, min_samples_leaf=5, n_jobs=2, random_state=0)
        art = artifact(model, train, test, f"rf{trees}")
        explain_classifier(art, rows=np.arange(5), n_jobs=1)  # warm caches
        leaves = np.mean([e.get_n_leaves() for e in art.estimator[-1].estimators_])
        for n in row_counts:
            started = time.perf_counter()
            exp = explain_classifier(art, rows=np.arange(n), n_jobs=jobs)
            seconds = time.perf_counter() - started
            results.append(
                {
                    "trees": trees,
                    "leaves/tree": f"{leaves:.0f}",
                    "rows": n,
                    "seconds": f"{seconds:.2f}",
                    "ms/row": f"{1000 * seconds / n:.2f}",
                    "additivity": f"{exp.additivity_error:.1e}",
                }
            )
            print(f"  trees={trees} rows={n}: {seconds:.2f}s", flush=True)
    print(f"\nTreeSHAP (path-dependent), random forest depth<=10, 20 features -> 25 model inputs, n_jobs={jobs}")
    print(table(results, ["trees", "leaves/tree", "rows", "seconds", "ms/row", "additivity"]))


def families(jobs: int) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    from audit.explain import adverse_direction, coverage, explain_classifier, reason_codes

    frame = synthetic(10_000, seed=2)
    train, test = frame.iloc[:7_500], frame.iloc[7_500:].reset_index(drop=True)
    models = [
        ("logistic_regression", LogisticRegression(max_iter=1000), train),
        (
            "random_forest_120",
            RandomForestClassifier(n_estimators=120, max_depth=10, min_samples_leaf=5, n_jobs=2, random_state=0),
            train,
        ),
        ("svc_calibrated", CalibratedClassifierCV(SVC(random_state=0), cv=3), train.iloc[:2_500]),
        (
            "mlp",
            MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=300, early_stopping=True, random_state=0),
            train.iloc[:4_000],
        ),
    ]
    results = []
    total = 0.0
    for name, model, fit_rows in models:
        art = artifact(model, fit_rows, test, name)
        adverse = ~art.favourable_mask()
        started = time.perf_counter()
        exp = explain_classifier(art, rows=adverse, max_rows=500, n_jobs=jobs)
        explained = time.perf_counter() - started
        codes = reason_codes(exp, adverse_mask=adverse, direction=adverse_direction(art), excluded_features=["plan"])
        seconds = time.perf_counter() - started
        total += seconds
        results.append(
            {
                "model": name,
                "explainer": exp.explainer,
                "adverse": int(adverse.sum()),
                "rows explained": exp.n_rows,
                "explain s": f"{explained:.2f}",
                "+ reasons s": f"{seconds:.2f}",
                "coverage": f"{coverage(codes):.2f}",
                "additivity": f"{exp.additivity_error:.1e}",
            }
        )
        print(f"  {name}: {seconds:.2f}s", flush=True)
    print(f"\nChurn-audit workload: 2,500 evaluation rows, adverse rows + 500-row sample, n_jobs={jobs}")
    print(
        table(
            results,
            ["model", "explainer", "adverse", "rows explained", "explain s", "+ reasons s", "coverage", "additivity"],
        )
    )
    print(f"total: {total:.2f}s")


def demo(jobs: int) -> None:
    from audit.crm.demo import crm_demo_stack, generate_demo
    from audit.explain import adverse_direction, coverage, explain_classifier, reason_codes

    started = time.perf_counter()
    stack = crm_demo_stack(generate_demo(10_000, seed=7))
    print(f"  demo generated and trained in {time.perf_counter() - started:.1f}s (not counted)", flush=True)
    results = []
    total = 0.0
    for art in stack:
        if art.kind not in ("classifier", "regressor"):
            continue
        started = time.perf_counter()
        if art.kind == "classifier":
            adverse = ~art.favourable_mask()
            exp = explain_classifier(art, rows=adverse, max_rows=500, n_jobs=jobs)
            codes = reason_codes(
                exp, adverse_mask=adverse, direction=adverse_direction(art), excluded_features=["email"]
            )
            cov = f"{coverage(codes):.2f}"
            n_adverse = int(adverse.sum())
        else:
            exp = explain_classifier(art, max_rows=500, n_jobs=jobs)
            cov, n_adverse = "-", 0
        seconds = time.perf_counter() - started
        total += seconds
        results.append(
            {
                "model": art.name,
                "explainer": exp.explainer,
                "adverse": n_adverse,
                "rows explained": exp.n_rows,
                "seconds": f"{seconds:.2f}",
                "coverage": cov,
                "additivity": f"{exp.additivity_error:.1e}",
            }
        )
    print(f"\nDemo stack (10,000 customers), explanation + reason codes, n_jobs={jobs}")
    print(table(results, ["model", "explainer", "adverse", "rows explained", "seconds", "coverage", "additivity"]))
    print(f"total: {total:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,5000,10000")
    parser.add_argument("--trees", default="50,100,200")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1k/2k rows and 50/100 trees")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--demo", action="store_true", help="also time the demo model stack")
    args = parser.parse_args()
    rows = [1000, 2000] if args.quick else [int(v) for v in args.rows.split(",")]
    trees = [50, 100] if args.quick else [int(v) for v in args.trees.split(",")]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    import shap  # noqa: F401 - import cost is paid once per process

    print(f"import shap: {time.perf_counter() - started:.2f}s")
    if not args.skip_grid:
        tree_grid(rows, trees, args.jobs)
    families(args.jobs)
    if args.demo:
        demo(args.jobs)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
