"""`crm-audit monitor` on small hand-built logs: integrity, volume, retention, usage errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from audit.cli import main
from audit.decisions import DecisionLogWriter, Pseudonymiser, build_record

KEY = b"0123456789abcdef0123456789abcdef"
START = datetime(2026, 6, 1, tzinfo=timezone.utc)  # a Monday


def write_log(d: Path, *, days: int = 21, per_day: int = 120, skip_days: tuple[int, ...] = (), shift_from: int | None = None, hashed: bool = False, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    p = Pseudonymiser(KEY)
    with DecisionLogWriter(d) as w:
        k = 0
        for day in range(days):
            if day in skip_days:
                continue
            recs, times = [], []
            for i in range(per_day):
                x = float(rng.normal(2.0 if shift_from is not None and day >= shift_from else 0.0, 1.0))
                g = "A" if rng.random() < 0.5 else "B"
                fav = bool(rng.random() < 0.6)
                recs.append(build_record(pseudonymiser=p, customer_id=f"C{k}", model_name="m", model_version="sha256:" + "0" * 64, features={"x": x}, score=float(rng.random()),
                                         decision="ok" if fav else "no", favourable=fav, groups={"g": g}, features_mode="hash" if hashed else "values"))
                times.append(START + timedelta(days=day, seconds=60 * i))
                k += 1
            w.append(recs, times=times)


def _findings(out: Path) -> list[dict]:
    return json.loads((out / "findings.json").read_text())["findings"]


def test_drift_found_in_the_shifted_week_and_nothing_else(tmp_path):
    write_log(tmp_path / "log", shift_from=14)
    out = tmp_path / "out"
    code = main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), "--format", "json,md", "--as-of", "2026-06-22"])
    fs = {(f["check_id"], f["subject"].split("/")[-1]): f for f in _findings(out)}
    f = fs[("monitor.feature_drift", "feature:x")]
    assert f["status"] == "fail" and f["evidence"]["first_breach"] == "2026-06-15" and f["evidence"]["breaching_windows"] == ["2026-06-15"]
    assert fs[("monitor.feature_drift", "group:g")]["status"] == "pass"
    assert fs[("monitor.score_drift", "score:m")]["status"] == "pass"  # scores drawn from one distribution throughout
    assert fs[("monitor.log_integrity", "decision_log:log")]["status"] == "pass"
    assert fs[("monitor.performance_decay", "decision_log:log")]["status"] == "skipped" and "--outcomes" in fs[("monitor.performance_decay", "decision_log:log")]["message"]
    assert code == 1


def test_tampered_log_is_a_critical_finding(tmp_path):
    write_log(tmp_path / "log", days=8)
    f = sorted((tmp_path / "log").glob("decisions-*.jsonl"))[3]
    lines = f.read_text().splitlines(keepends=True)
    rec = json.loads(lines[5])
    rec["decision"] = "ok" if rec["decision"] == "no" else "no"
    lines[5] = json.dumps(rec) + "\n"
    f.write_text("".join(lines))
    out = tmp_path / "out"
    assert main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), "--format", "json"]) == 1
    integ = next(x for x in _findings(out) if x["check_id"] == "monitor.log_integrity")
    assert integ["status"] == "fail" and integ["severity"] == "critical"
    assert f"{f.name}:6 (seq {rec['seq']}): edited" in integ["message"]


def test_a_silent_day_is_a_volume_anomaly(tmp_path):
    write_log(tmp_path / "log", days=16, skip_days=(10,))
    out = tmp_path / "out"
    main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), "--format", "json"])
    vol = next(x for x in _findings(out) if x["check_id"] == "monitor.volume")
    assert vol["status"] == "fail" and vol["evidence"]["anomalous_days"] == ["2026-06-11"]


def test_hashed_features_skip_drift_with_the_reason(tmp_path):
    write_log(tmp_path / "log", days=14, hashed=True)
    out = tmp_path / "out"
    main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), "--format", "json"])
    skipped = [x for x in _findings(out) if x["check_id"] == "monitor.feature_drift" and x["status"] == "skipped"]
    assert any("keyed hashes" in x["message"] for x in skipped)


def test_retention_from_a_policy(tmp_path):
    write_log(tmp_path / "log", days=14)
    pol = tmp_path / "p.yaml"
    pol.write_text("metadata: {id: p, title: p, version: '1', jurisdiction: EU}\nextends: [monitoring]\nchecks:\n  - id: monitor.retention\n    params: {max_retention_days: 30, as_of: 2026-07-08}\n")
    out = tmp_path / "out"
    main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), "--format", "json", "--policy", str(pol)])
    ret = next(x for x in _findings(out) if x["check_id"] == "monitor.retention")
    # days 1..7 June are more than 30 days before 8 July
    assert ret["status"] == "fail" and ret["observed"] == 7 * 120


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--window", "fortnight"], "is not a window length"),
        (["--reference", "2025-01-01:2025-01-31"], "no decision falls in the reference"),
        (["--reference", "2026-06-10"], "is not START:END"),
        (["--outcomes", "OUTCOMES"], "no pseudonymisation key"),
        (["--outcomes", "BADVALUES", "--key-file", "KEY"], "outcomes must be 1"),
        (["--outcomes", "OUTCOMES", "--key-file", "WRONGKEY"], "is not the log's key"),
        (["--policy", "gdpr"], "enable no monitoring check"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.delenv("CRM_AUDIT_LOG_KEY", raising=False)
    write_log(tmp_path / "log", days=8, per_day=20)
    (tmp_path / "o.csv").write_text("customer_id,outcome\nC1,1\nC2,0\n")
    (tmp_path / "bad.csv").write_text("customer_id,outcome\nC1,yes\n")
    (tmp_path / "key").write_bytes(KEY)
    (tmp_path / "wrong").write_bytes(b"x" * 32)
    repl = {"OUTCOMES": str(tmp_path / "o.csv"), "BADVALUES": str(tmp_path / "bad.csv"), "KEY": str(tmp_path / "key"), "WRONGKEY": str(tmp_path / "wrong")}
    out = tmp_path / "out"
    code = main(["monitor", "--log", str(tmp_path / "log"), "--out", str(out), *[repl.get(a, a) for a in extra]])
    assert code == 2 and needle in capsys.readouterr().err
    assert not out.exists()
