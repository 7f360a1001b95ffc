"""The demo audit's cost curve: time, peak memory and stages at growing customer counts.

Usage:
    python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--engine local|dask] [--formats json]
    python benchmarks/bench_scale.py --pii-workers [--texts 20000]   # PII scan on 1 vs 2 Dask workers

Each size runs in its own process, so its peak resident memory (ru_maxrss) is its own. Per stage:
generation of the demo CRM, training of the model stack, the engine's partitioned work (PII scan,
count tables), the checks (slowest listed), the outputs. The last line per size gives the time per
customer and its ratio to the first size measured (the goal: at most 1.3 at 1M against 100k;
the whole 1M audit under 10 minutes and 4 GB on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def one(n: int, engine_kind: str, formats: str, seed: int) -> dict[str, Any]:
    from audit.checks import load_builtin_checks
    from audit.compute.engine import make_engine, prepare_context
    from audit.core.types import Severity
    from audit.crm.demo import crm_demo_stack, generate_demo
    from audit.demo import _datasets
    from audit.core.context import AuditContext
    from audit.policy.loader import load_policies
    from audit.reporters import write_outputs
    from audit.runner import build_result

    load_builtin_checks()
    stages: dict[str, float] = {}
    t = time.perf_counter()
    demo = generate_demo(n_customers=n, seed=seed)
    stages["generate"] = time.perf_counter() - t
    rss_after_generate = _peak_rss_mb()
    t = time.perf_counter()
    train: dict[str, float] = {}
    models = crm_demo_stack(demo, seed=seed, timings=train)
    stages["train"] = time.perf_counter() - t
    ctx = AuditContext(datasets=_datasets(demo), models=models, seed=seed, demo=demo)
    policy = load_policies(["default"])
    engine = make_engine(engine_kind)
    try:
        t = time.perf_counter()
        prep = prepare_context(ctx, engine, check_ids=policy.checks.keys())
        stages["engine"] = time.perf_counter() - t
        t = time.perf_counter()
        res = build_result(ctx, policy, fail_on=Severity.HIGH)
        stages["checks"] = time.perf_counter() - t
    finally:
        engine.close()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_outputs(res, Path(d), tuple(formats.split(",")))
    stages["outputs"] = time.perf_counter() - t
    timings = res.run["check_timings_s"]
    return {
        "customers": n,
        "feedback": len(demo.feedback),
        "tickets": len(demo.tickets),
        "transcripts": len(demo.transcripts),
        "engine": engine_kind,
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "train_s": {k: round(v, 2) for k, v in train.items()},
        "total_s": round(sum(stages.values()), 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_rss_after_generate_mb": round(rss_after_generate, 1),
        "pii_scan": prep.get("pii_scan"),
        "slowest_checks": dict(sorted(timings.items(), key=lambda kv: -kv[1])[:8]),
        "statuses": res.counts()["by_status"],
    }


def curve(sizes: list[int], engine_kind: str, formats: str, seed: int) -> None:
    base = None
    print(f"machine: {os.cpu_count()} cores (shared with other jobs: figures are upper bounds)")
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--engine", engine_kind, "--formats", formats, "--seed", str(seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"customers {n:>9,}: FAILED (exit {proc.returncode})\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        per = r["total_s"] / n * 1000.0
        base = base or (n, per)
        st = r["stages_s"]
        print(
            f"customers {n:>9,}  total {r['total_s']:8.1f} s  peak RSS {r['peak_rss_mb']:7.0f} MB  "
            f"generate {st['generate']:.1f}  train {st['train']:.1f}  engine {st['engine']:.1f}  checks {st['checks']:.1f}  outputs {st['outputs']:.1f} s"
        )
        scan = r.get("pii_scan") or {}
        if scan.get("rows_per_s"):
            print(f"    PII scan: {scan['rows']:,} text rows, {scan['distinct_texts']:,} distinct, {scan['rows_per_s']:,.0f} rows/s")
        print(f"    training: {', '.join(f'{k} {v:.1f}' for k, v in r['train_s'].items())}")
        print(f"    slowest checks: {', '.join(f'{k} {v:.1f}' for k, v in r['slowest_checks'].items())}")
        print(f"    time per customer {per:.3f} ms  (ratio to {base[0]:,}: {per / base[1]:.2f})")
        sys.stdout.flush()


def pii_workers(n_texts: int, seed: int) -> None:
    """The free-text PII scan of the demo's texts on a local Dask cluster of 1 and of 2 workers."""
    from audit.compute.engine import _scan_partition, make_engine, partitions
    from audit.crm.demo import generate_demo

    demo = generate_demo(n_customers=max(200, n_texts), seed=seed)
    texts = [*demo.feedback["text"].astype(str), *demo.tickets["text"].astype(str), *demo.transcripts["text"].astype(str)]
    items = list(dict.fromkeys(("auto", t) for t in texts))[:n_texts]
    parts = [items[a:b] for a, b in partitions(len(items), 500)]
    print(f"machine: {os.cpu_count()} cores (shared with other jobs); {len(items):,} distinct texts in {len(parts)} tasks")
    rates = {}
    for workers in (1, 2):
        engine = make_engine("dask", n_workers=workers)
        try:
            engine.map(_scan_partition, [items[:20]] * workers, shared={})  # each worker loads its scanner once
            t = time.perf_counter()
            engine.map(_scan_partition, parts, shared={})
            dt = time.perf_counter() - t
        finally:
            engine.close()
        rates[workers] = len(items) / dt
        print(f"  {workers} worker(s): {dt:7.1f} s  {rates[workers]:8.0f} texts/s")
    print(f"  speed-up 2 vs 1 workers: {rates[2] / rates[1]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--engine", default="local", choices=["local", "dask"])
    ap.add_argument("--formats", default="json")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--pii-workers", action="store_true")
    ap.add_argument("--texts", type=int, default=20_000)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.engine, args.formats, args.seed)))
        return
    if args.pii_workers:
        pii_workers(args.texts, args.seed)
        return
    curve([int(s) for s in args.sizes.split(",")], args.engine, args.formats, args.seed)


if __name__ == "__main__":
    main()
