"""Time audits of a large recommender and a large text classifier declared in audit.yaml.

Usage: python benchmarks/bench_kinds.py [--ratings 100000] [--texts 20000] [--formats html,json,junit,sarif,md]

The data comes from examples/generate.py at a larger size, is written as CSV and audited through the
same path as `crm-audit run --config`: reading and validating the config, reading the files, training
the model, every check of the default policy pack, and the outputs. Prints wall time per phase and the
slowest checks; the goal is under 60 s for each audit on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 60.0

RECOMMENDER = """\
datasets:
  ratings:
    source: {path: ratings.csv}
    roles: {user: user_id, item: item_id, rating: rating, timestamps: [ts]}
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender, age]}
    bands: {age: [18, 30, 45, 60]}
  items:
    source: {path: items.csv}
    roles: {id: item_id, category: genre, price: price, text: [title]}
models:
  - {name: recs_knn, kind: recommender, source: train, algorithm: user_knn, dataset: ratings, users: users, items: items, consent_column: consent_profiling}
policies: [default]
"""

TEXT = """\
datasets:
  reviews:
    source: {path: reviews.csv}
    roles: {id: review_id, user: user_id, text: [review], target: label}
    positive_labels: ["1"]
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender, age]}
    bands: {age: [18, 30, 45, 60]}
models:
  - {name: sentiment, kind: text_classifier, source: train, dataset: reviews, users: users}
policies: [default]
"""


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("examples_generate", ROOT / "examples" / "generate.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["examples_generate"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def audit(folder: Path, config: str, formats: tuple[str, ...]) -> dict[str, Any]:
    from audit.checks import load_builtin_checks
    from audit.config.loader import load_config
    from audit.config.project import context_from_config
    from audit.core.types import Severity
    from audit.policy.loader import load_policies
    from audit.reporters import write_outputs
    from audit.runner import build_result

    load_builtin_checks()
    path = folder / "audit.yaml"
    path.write_text(config, encoding="utf-8")
    t0 = time.perf_counter()
    cfg, _doc = load_config(path)
    ctx, inputs = context_from_config(cfg, base=folder, config_file=str(path))
    t1 = time.perf_counter()
    res = build_result(ctx, load_policies(cfg.policies), fail_on=Severity.HIGH, inputs=inputs)
    t2 = time.perf_counter()
    write_outputs(res, folder / "out", formats)
    t3 = time.perf_counter()
    return {"read_and_train": t1 - t0, "checks": t2 - t1, "outputs": t3 - t2, "total": t3 - t0, "timings": res.run["check_timings_s"], "result": res}


def report(title: str, size: str, t: dict[str, Any]) -> None:
    print(f"== {title} ({size})")
    print(f"  read + train     {t['read_and_train']:7.2f} s")
    print(f"  checks           {t['checks']:7.2f} s")
    print(f"  outputs          {t['outputs']:7.2f} s")
    print(f"  total            {t['total']:7.2f} s  ({t['total'] / GOAL_S:.0%} of the {GOAL_S:.0f} s goal: {'met' if t['total'] < GOAL_S else 'NOT met'})")
    print("  slowest checks:")
    for k, v in sorted(t["timings"].items(), key=lambda kv: -kv[1])[:5]:
        print(f"    {k:38s} {v:6.2f} s")
    failing = sorted({f.check_id for f in t["result"].findings if f.status.value == "fail" and f.subject.startswith("model:")})
    print(f"  failing model checks: {', '.join(failing) or 'none'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratings", type=int, default=100_000)
    ap.add_argument("--texts", type=int, default=20_000)
    ap.add_argument("--formats", default="html,json,junit,sarif,md")
    args = ap.parse_args()
    gen = _generator()
    formats = tuple(args.formats.split(","))
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "recommender"
        folder.mkdir()
        # about 26 ratings per user on average: enough users to reach the requested count
        tables = gen.recommender(n_users=max(50, args.ratings // 25), n_items=1000)
        tables["ratings"] = tables["ratings"].head(args.ratings)
        for name, frame in tables.items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        n_users = tables["ratings"]["user_id"].nunique()
        rec = audit(folder, RECOMMENDER, formats)
        report("recommender, user-KNN with means", f"{len(tables['ratings']):,} ratings, {n_users:,} users, 1,000 items", rec)

        folder = Path(d) / "text"
        folder.mkdir()
        tables = gen.text_classifier(n=args.texts)
        for name, frame in tables.items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        txt = audit(folder, TEXT, formats)
        report("text classifier, TF-IDF + logistic regression", f"{args.texts:,} texts, English and Chinese", txt)


if __name__ == "__main__":
    main()
