"""The Dask engine on a real scheduler and two worker processes gives the local engine's findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.compute.engine import DaskEngine, LocalEngine, make_engine, prepare_context, score_partitions
from audit.core.context import AuditContext
from audit.core.errors import AuditInputError
from audit.crm.classify import train_classifier
from audit.crm.demo import generate_demo
from audit.demo import _datasets

from checks.runcheck import findings

load_builtin_checks()

CHECKS = (
    "pii.free_text",
    "dq.missingness",
    "fairness.selection_rate_impact_ratio",
    "fairness.demographic_parity_difference",
    "fairness.equalized_odds_difference",
    "fairness.equal_opportunity_difference",
)


def _dask(*args: str) -> list[str]:
    return [sys.executable, "-m", "dask", *args]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`dask scheduler` and two `dask worker` processes on localhost."""
    d = tmp_path_factory.mktemp("dask")
    sfile = d / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen(_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(sfile)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)]
    try:
        for _ in range(300):
            if sfile.exists() and sfile.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    _dask("worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--name", f"w{i}", "--local-directory", str(d / f"w{i}")),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=d,
                )
            )
        from distributed import Client

        with Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def demo_parts() -> tuple[dict[str, Any], Any]:
    demo = generate_demo(n_customers=1200, seed=5)
    customers = demo.customers
    art = train_classifier(
        customers,
        "churned",
        ["tenure_months", "income", "region", "consent_marketing"],
        "logistic_regression",
        name="churn",
        purpose="test",
        dataset="demo.customers",
        id_column="customer_id",
        sensitive_columns=["gender", "age"],
        favourable_outcome="negative",
        test_size=0.5,
    )
    return demo, art


def _context(demo: Any, art: Any) -> AuditContext:
    ds = _datasets(demo)
    keep = {k: ds[k] for k in ("demo.customers", "demo.feedback", "demo.tickets")}
    return AuditContext(datasets=keep, models=[art], seed=3, demo=demo)


def _run(engine: Any, demo: Any, art: Any, partition_rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = _context(demo, art)
    stats = prepare_context(ctx, engine, check_ids=CHECKS, partition_rows=partition_rows)
    out = {}
    for cid in CHECKS:
        for subject, f in findings(cid, ctx).items():
            out[(cid, subject)] = (f.status.value, f.message, f.observed, json.dumps(f.evidence, sort_keys=True, default=str))
    return out, stats


@pytest.mark.slow
def test_dask_cluster_findings_equal_local(scheduler: str, demo_parts: Any) -> None:
    demo, art = demo_parts
    local, local_stats = _run(LocalEngine(), demo, art, partition_rows=20_000)
    engine = make_engine("dask", scheduler)
    try:
        assert engine.workers == 2
        remote, stats = _run(engine, demo, art, partition_rows=250)  # several partitions per table
    finally:
        engine.close()
    assert stats["engine"] == "dask" and stats["workers"] == 2
    assert stats["fairness_counts"]["tables"] >= 4 and stats["missingness_counts"]["tables"] >= 3
    assert stats["pii_scan"]["distinct_texts"] == local_stats["pii_scan"]["distinct_texts"] > 0
    assert stats["pii_scan"]["rows_per_s"] > 0
    assert set(local) == set(remote)
    statuses = {k: v[0] for k, v in local.items()}
    assert "fail" in statuses.values() and "pass" in statuses.values()  # the comparison covers both outcomes
    for key in local:
        assert remote[key] == local[key], key


@pytest.mark.slow
def test_dask_scoring_equals_local(scheduler: str, demo_parts: Any) -> None:
    _demo, art = demo_parts
    engine = make_engine(None, scheduler)
    try:
        got = score_partitions(engine, art.estimator, art.X_eval, partition_rows=97)
    finally:
        engine.close()
    np.testing.assert_array_equal(got, art.estimator.predict_proba(art.X_eval))


def test_engine_options_are_checked() -> None:
    assert isinstance(make_engine(None), LocalEngine)
    with pytest.raises(AuditInputError, match="needs the dask engine"):
        make_engine("local", "tcp://127.0.0.1:1")
    with pytest.raises(AuditInputError, match="unknown engine"):
        make_engine("spark")


def test_unreachable_scheduler_is_a_usage_error() -> None:
    with pytest.raises(AuditInputError, match="cannot reach the Dask scheduler"):
        DaskEngine("tcp://127.0.0.1:9", timeout=2)


def test_local_prepare_reports_scan_rate(demo_parts: Any) -> None:
    demo, art = demo_parts
    ctx = _context(demo, art)
    stats = prepare_context(ctx, LocalEngine(), check_ids=["pii.free_text"])
    scan = stats["pii_scan"]
    assert scan["rows"] == len(demo.feedback) + len(demo.tickets)
    assert scan["distinct_texts"] <= scan["rows"] and scan["rows_per_s"] > 0
    assert "confusion_tables" not in ctx.memo  # the local engine lets the checks count the rows themselves
    assert ctx.report.engine["engine"] == "local"
    pd.testing.assert_frame_equal(ctx.datasets["demo.feedback"].frame, demo.feedback)
