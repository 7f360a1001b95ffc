"""`crm-audit monitor` with no arguments audits the demo log and finds every planted problem at its window."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from audit.cli import main
from audit.decisions import Pseudonymiser, scan_log
from audit.monitoring.demo import PLANTED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("monitor") / "out"
    code = main(["monitor", "--out", str(out)])
    findings = json.loads((out / "findings.json").read_text())
    return code, out, findings


def _one(findings, check, subject_end):
    hits = [f for f in findings["findings"] if f["check_id"] == check and f["subject"].endswith(subject_end)]
    assert len(hits) == 1, [f["subject"] for f in findings["findings"] if f["check_id"] == check]
    return hits[0]


def _log(out: Path) -> pd.DataFrame:
    recs: list[dict] = []
    assert scan_log(out / "demo" / "demo-decision-log", sink=recs.append).ok
    df = pd.DataFrame({"time": pd.to_datetime([r["time"] for r in recs]).tz_localize(None), "age": [r["groups"]["age"] for r in recs],
                       "fav": [r["favourable"] for r in recs], "score": [r["score"] for r in recs], "subject": [r["subject"] for r in recs]})
    df["week"] = df["time"].dt.normalize() - pd.to_timedelta(df["time"].dt.weekday, unit="D")
    return df


def test_outputs_and_gate(run):
    code, out, findings = run
    assert code == 1 and not findings["gate"]["passed"]
    assert {"findings.json", "report.html", "junit.xml", "results.sarif", "summary.md", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert main(["verify", str(out)]) == 0
    assert findings["run"]["monitoring"]["reference"].startswith("2026-10-05..2026-10-11")
    assert _one(findings, "monitor.log_integrity", "demo-decision-log")["status"] == "pass"
    assert _one(findings, "monitor.volume", "demo-decision-log")["status"] == "pass"
    assert _one(findings, "monitor.decision_rate_trend", "group:gender")["status"] == "pass"


def test_age_mix_shift_found_from_its_week(run):
    _, out, findings = run
    f = _one(findings, "monitor.feature_drift", "group:age")
    assert f["status"] == "fail" and f["severity"] == "high"
    assert f["evidence"]["first_breach"] == PLANTED["age_mix"]["first_window"] == "2026-10-19"
    # PSI of the first breaching window recomputed by hand from the log
    df = _log(out)
    ref = df[df["week"] == "2026-10-05"]["age"].value_counts(normalize=True)
    win = df[df["week"] == "2026-10-19"]["age"].value_counts(normalize=True)
    cats = sorted(set(ref.index) | set(win.index))
    e = np.array([max(ref.get(c, 0.0), 1e-4) for c in cats])
    a = np.array([max(win.get(c, 0.0), 1e-4) for c in cats])
    hand = float(np.sum((a - e) * np.log(a / e)))
    row = next(w for w in f["evidence"]["trend"]["windows"] if w["window"] == "2026-10-19")
    assert row["psi"] == pytest.approx(hand, abs=1e-6) and hand > 0.25
    week2 = next(w for w in f["evidence"]["trend"]["windows"] if w["window"] == "2026-10-12")
    assert week2["level"] is None


def test_score_drift_follows_the_mix_shift(run):
    _, _, findings = run
    f = _one(findings, "monitor.score_drift", "score:churn_logistic_regression")
    assert f["status"] == "fail" and f["evidence"]["first_breach"] == "2026-10-19"


def test_approval_slide_found_for_the_right_band_and_week(run):
    _, out, findings = run
    f = _one(findings, "monitor.decision_rate_trend", "group:age")
    assert f["status"] == "fail" and f["severity"] == "high"
    assert f["evidence"]["first_breach"] == {"group": "60-120", "window": "2026-10-26", "pre_existing": False}
    assert PLANTED["approval_slide"]["first_window"] == "2026-10-26"
    assert "group 60-120 fell below minimum 0.8 from window 2026-10-26" in f["message"]
    # impact ratio by hand: the band's favourable rate over the best band's, in that week
    df = _log(out)
    wk = df[df["week"] == "2026-10-26"]
    rates = wk.groupby("age")["fav"].mean()
    hand = rates["60-120"] / rates.max()
    row = next(w for w in f["evidence"]["trend"]["windows"] if w["window"] == "2026-10-26")
    assert row["groups"]["60-120"]["impact_ratio"] == pytest.approx(hand, abs=1e-6) and hand < 0.8
    lo, hi = row["groups"]["60-120"]["ci"]
    assert lo <= hand <= hi
    prev = next(w for w in f["evidence"]["trend"]["windows"] if w["window"] == "2026-10-19")
    assert "60-120" not in prev["breaching_groups"]


def test_accuracy_decay_found_from_its_week(run):
    _, out, findings = run
    f = _one(findings, "monitor.performance_decay", "performance")
    assert f["status"] == "fail"
    assert f["evidence"]["first_breach"] == PLANTED["accuracy_decay"]["first_window"] == "2026-10-26"
    rows = {w["window"]: w for w in f["evidence"]["trend"]["windows"]}
    assert rows["2026-10-19"]["level"] is None and rows["2026-11-09"]["awaiting_outcomes"]
    # AUC by hand: outcomes joined through the keyed pseudonym
    key = (out / "demo" / "demo-decision-log.key").read_bytes().strip()
    oc = pd.read_csv(out / "demo" / "demo-outcomes.csv", dtype={"customer_id": str})
    p = Pseudonymiser(key)
    lookup = dict(zip(oc["customer_id"].map(p.pseudonym), oc["outcome"]))
    df = _log(out)
    wk = df[df["week"] == "2026-10-26"]
    y = wk["subject"].map(lookup)
    assert y.notna().all()
    assert rows["2026-10-26"]["auc"] == pytest.approx(roc_auc_score(y.astype(int), wk["score"]), abs=1e-6)


def test_report_shows_trend_charts_with_breaches(run):
    _, out, _ = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Monitoring over time" in html
    assert html.count('data-chart="trend"') >= 3
    assert "2026-10-26" in html
