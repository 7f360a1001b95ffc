"""Time the demo CRM: generation, each training step, the total; and recommender memory.

Usage: python benchmarks/bench_stack.py [--customers 10000] [--seed 7] [--memory-users 1000 2000 4000]

Memory is the peak of traced allocations while fitting the user-KNN on
synthetic ratings with N users: the dense path (scikit-surprise, which keeps
seven N x N matrices) against the blockwise sparse path (top neighbours only).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from audit.crm.demo import crm_demo_stack, generate_demo
from audit.crm.recommend import KNNWithMeansRecommender


def synthetic_ratings(n_users: int, n_items: int = 240, per_user: int = 22, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, size=per_user, replace=False) for _ in range(n_users)])
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": rng.integers(1, 6, size=len(users))})


def peak_mib(backend: str, ratings: pd.DataFrame) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    model = KNNWithMeansRecommender(backend=backend, n_neighbours=200, dense_max_users=10**9).fit(ratings)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del model
    return peak / 2**20, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-users", type=int, nargs="*", default=[1000, 2000, 4000])
    args = parser.parse_args()

    total_start = time.perf_counter()
    cpu_start = time.process_time()
    start = time.perf_counter()
    demo = generate_demo(args.customers, seed=args.seed)
    steps = {"generate_demo": time.perf_counter() - start}
    stack_timings: dict[str, float] = {}
    artifacts = crm_demo_stack(demo, seed=0, timings=stack_timings)
    steps.update(stack_timings)
    total = time.perf_counter() - total_start
    cpu = time.process_time() - cpu_start

    print(f"demo CRM: {args.customers} customers, seed {args.seed}, {len(artifacts)} artifacts")
    print(f"{'step':<28}{'seconds':>9}")
    for step, seconds in steps.items():
        print(f"{step:<28}{seconds:>9.2f}")
    print(f"{'TOTAL (generate + train)':<28}{total:>9.2f}")
    # CPU seconds of this process: close to the wall time on idle cores, and
    # unaffected by other processes competing for them
    print(f"{'TOTAL CPU seconds':<28}{cpu:>9.2f}")
    knn = next(a for a in artifacts if a.name == "recommender_knn_means").estimator
    print(
        f"demo recommender: {len(knn.users_)} users, {len(knn.items_)} items, backend {knn.backend_}, "
        f"neighbour lists {knn.nbr_idx_.nbytes + knn.nbr_sim_.nbytes} bytes"
    )

    if args.memory_users:
        print("\nuser-KNN fit, peak traced memory (MiB) / seconds")
        print(f"{'users':>7}{'dense (surprise)':>22}{'sparse top-200':>22}{'N x N float64':>16}")
        for n in args.memory_users:
            ratings = synthetic_ratings(n)
            try:
                dense = "{:.0f} / {:.2f}s".format(*peak_mib("surprise", ratings))
            except ImportError:
                dense = "n/a"
            sparse = "{:.0f} / {:.2f}s".format(*peak_mib("sparse", ratings))
            print(f"{n:>7}{dense:>22}{sparse:>22}{n * n * 8 / 2**20:>16.0f}")


if __name__ == "__main__":
    main()
