"""Time the whole demo audit: generation, training, every check, and the report outputs.

Usage: python benchmarks/bench_audit.py [--customers 10000] [--formats html,json,junit,sarif,md,pdf]
Prints wall time per phase and the slowest checks; the goal for the default demo is under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from audit.checks import load_builtin_checks
from audit.core.types import Severity
from audit.demo import demo_context
from audit.policy.loader import load_policies
from audit.reporters import write_outputs
from audit.runner import build_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--formats", default="html,json,junit,sarif,md,pdf")
    args = ap.parse_args()
    load_builtin_checks()
    t0 = time.perf_counter()
    ctx, _ = demo_context(n_customers=args.customers, seed=7)
    t1 = time.perf_counter()
    res = build_result(ctx, load_policies(["default"]), fail_on=Severity.HIGH)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_outputs(res, Path(d), tuple(args.formats.split(",")))
    t3 = time.perf_counter()
    timings = res.run["check_timings_s"]
    explain = sum(v for k, v in timings.items() if k.startswith("explain."))
    print(f"customers                 {args.customers}")
    print(f"generate + train stack    {t1 - t0:7.2f} s")
    print(f"checks                    {t2 - t1:7.2f} s  (explanation checks {explain:.2f} s)")
    print(f"outputs ({args.formats})  {t3 - t2:7.2f} s")
    print(f"total                     {t3 - t0:7.2f} s  (goal < 60 s: {'met' if t3 - t0 < 60 else 'NOT met'})")
    print("slowest checks:")
    for k, v in sorted(timings.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {k:40s} {v:6.2f} s")


if __name__ == "__main__":
    main()
