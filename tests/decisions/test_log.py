from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from audit.cli import main
from audit.decisions import DecisionLogWriter, Pseudonymiser, build_record, record_hash, scan_log
from audit.decisions.record import GENESIS, load_key
from audit.core.errors import AuditInputError

KEY = b"k" * 32
T0 = datetime(2026, 3, 2, 23, 59, 58, tzinfo=timezone.utc)


def _rec(p: Pseudonymiser, i: int, **kw):
    return build_record(
        pseudonymiser=p, customer_id=f"C{i}", model_name="churn", model_version="sha256:" + "a" * 64,
        features={"tenure": i, "region": "north"}, score=0.1 * (i % 10), decision="flag" if i % 2 else "no_flag",
        reasons=[{"feature": "tenure", "text": "Length of customer relationship"}], policy={"pack": "default", "version": "1.0.0"}, **kw,
    )


def _write(d: Path, n: int = 6) -> list[dict]:
    p = Pseudonymiser(KEY)
    with DecisionLogWriter(d) as w:
        return w.append([_rec(p, i) for i in range(n)], times=[T0 + timedelta(seconds=i) for i in range(n)])


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_chain_fields_and_daily_rotation(tmp_path):
    recs = _write(tmp_path, 6)
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5, 6]
    assert recs[0]["prev"] == GENESIS and all(recs[i]["prev"] == recs[i - 1]["hash"] for i in range(1, 6))
    assert all(record_hash(r) == r["hash"] for r in recs)
    # two seconds before midnight: two records on the 2nd, four on the 3rd
    names = sorted(p.name for p in tmp_path.glob("decisions-*.jsonl"))
    assert names == ["decisions-2026-03-02.jsonl", "decisions-2026-03-03.jsonl"]
    assert len(_lines(tmp_path / names[0])) == 2 and len(_lines(tmp_path / names[1])) == 4
    on_disk = json.loads(_lines(tmp_path / names[0])[0])
    assert on_disk["subject"] == Pseudonymiser(KEY).pseudonym("C0") and "C0" not in json.dumps(on_disk)
    v = scan_log(tmp_path)
    assert v.ok and v.records == 6 and v.last_seq == 6 and v.head_hash == recs[-1]["hash"]


def test_a_second_writer_continues_the_chain(tmp_path):
    _write(tmp_path, 3)
    p = Pseudonymiser(KEY)
    with DecisionLogWriter(tmp_path) as w:
        more = w.append([_rec(p, 10)])
    assert more[0]["seq"] == 4
    assert scan_log(tmp_path).ok


def test_backdated_times_must_not_go_back(tmp_path):
    _write(tmp_path, 3)
    with DecisionLogWriter(tmp_path) as w, pytest.raises(ValueError, match="before the last logged time"):
        w.append([_rec(Pseudonymiser(KEY), 1)], times=[T0 - timedelta(days=1)])


def test_reasons_never_protected_and_at_most_four(tmp_path):
    reasons = [{"feature": f, "text": f} for f in ["age", "tenure", "postcode", "income", "recency", "frequency", "monetary"]]
    r = build_record(pseudonymiser=Pseudonymiser(KEY), customer_id=1, model_name="m", model_version="v", features={}, score=0.5,
                     decision="d", reasons=reasons, excluded=["age", "postcode"])
    assert [x["feature"] for x in r["reasons"]] == ["tenure", "income", "recency", "frequency"]


def test_features_as_keyed_hash(tmp_path):
    p = Pseudonymiser(KEY)
    r = build_record(pseudonymiser=p, customer_id=1, model_name="m", model_version="v", features={"income": 52000}, score=0.5, decision="d", features_mode="hash")
    assert r["features"] is None and r["features_hmac"] == p.digest({"income": 52000}) and "52000" not in json.dumps(r)


@pytest.mark.parametrize("damage", ["edited", "deleted", "reordered", "edited_rehashed", "file_deleted"])
def test_verify_catches_tampering(tmp_path, damage, capsys):
    _write(tmp_path, 6)
    f = tmp_path / "decisions-2026-03-03.jsonl"
    lines = _lines(f)
    if damage == "edited":
        rec = json.loads(lines[1])
        rec["score"] = 0.99
        lines[1] = json.dumps(rec) + "\n"
        expect = ("seq 4", "edited")
    elif damage == "edited_rehashed":
        rec = json.loads(lines[1])
        rec["decision"] = "no_flag"
        rec["hash"] = record_hash(rec)
        lines[1] = json.dumps(rec) + "\n"
        expect = ("seq 5", "prev_mismatch")
    elif damage == "deleted":
        del lines[1]
        expect = ("seq 5", "gap")
    elif damage == "reordered":
        lines[1], lines[2] = lines[2], lines[1]
        expect = ("seq 5", "gap")
    else:
        (tmp_path / "decisions-2026-03-02.jsonl").unlink()
        expect = ("seq 3", "gap")
    f.write_text("".join(lines), encoding="utf-8")
    assert main(["log", "verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    broken = [ln for ln in out.splitlines() if ln.startswith("BROKEN")][0]
    assert expect[0] in broken and expect[1] in broken, out
    if damage == "reordered":
        kinds = [b.kind for b in scan_log(tmp_path).breaks]
        assert kinds[:2] == ["gap", "reordered"]


def test_verify_intact_and_expect_head(tmp_path, capsys):
    recs = _write(tmp_path, 6)
    assert main(["log", "verify", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"head: 6:{recs[-1]['hash']}" in out and "chain intact" in out
    # the last record cut off: the chain alone cannot tell, the recorded head can
    f = tmp_path / "decisions-2026-03-03.jsonl"
    f.write_text("".join(_lines(f)[:-1]), encoding="utf-8")
    assert main(["log", "verify", str(tmp_path)]) == 0
    assert main(["log", "verify", str(tmp_path), "--expect-head", f"6:{recs[-1]['hash']}"]) == 1
    assert "records cut from the end" in capsys.readouterr().out


def test_verify_usage_errors(tmp_path, capsys):
    assert main(["log", "verify", str(tmp_path / "nope")]) == 2
    assert main(["log", "verify", str(tmp_path)]) == 2
    assert "no decision log files" in capsys.readouterr().err


def test_torn_tail_is_flagged_then_recovered(tmp_path, capsys):
    recs = _write(tmp_path, 4)
    f = tmp_path / "decisions-2026-03-03.jsonl"
    with open(f, "ab") as fh:
        fh.write(b'{"v":1,"seq":5,"time":"2026-03-0')
    v = scan_log(tmp_path)
    assert v.ok and v.records == 4 and v.truncated_tail == {"file": f.name, "line": 3, "bytes": 32}
    assert main(["log", "verify", str(tmp_path)]) == 0
    assert "partial final line" in capsys.readouterr().out
    with DecisionLogWriter(tmp_path) as w:
        new = w.append([_rec(Pseudonymiser(KEY), 9)])
        assert w.recovered and w.recovered[0]["bytes"] == 32
    assert new[0]["seq"] == 5 and new[0]["prev"] == recs[-1]["hash"]
    v = scan_log(tmp_path)
    assert v.ok and v.records == 5 and v.truncated_tail is None and len(v.torn_kept) == 1


def test_killed_writer_leaves_no_torn_record(tmp_path):
    """A child process appends in a loop and is killed with SIGKILL; the log verifies."""
    script = textwrap.dedent(
        f"""
        import sys
        from audit.decisions import DecisionLogWriter, Pseudonymiser, build_record
        p = Pseudonymiser(b"k" * 32)
        w = DecisionLogWriter(sys.argv[1])
        i = 0
        while True:
            batch = [build_record(pseudonymiser=p, customer_id=i + j, model_name="m", model_version="v",
                                  features={{"x": "y" * 2000}}, score=0.5, decision="d") for j in range(50)]
            w.append(batch)
            i += 50
            if i == 100:
                print("ready", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, env={**os.environ})
    try:
        assert proc.stdout.readline().strip() == b"ready"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    v = scan_log(tmp_path)
    assert v.ok and v.records >= 100
    assert v.truncated_tail is not None or v.records % 50 == 0  # one write per batch: whole batches or a flagged tail
    with DecisionLogWriter(tmp_path) as w:
        w.append([build_record(pseudonymiser=Pseudonymiser(KEY), customer_id=1, model_name="m", model_version="v", features={}, score=0.1, decision="d")])
    v2 = scan_log(tmp_path)
    assert v2.ok and v2.truncated_tail is None and v2.last_seq == v.records + 1


def test_key_outside_the_log(tmp_path, monkeypatch):
    (tmp_path / "log").mkdir()
    inside = tmp_path / "log" / "key"
    inside.write_text("x" * 40)
    with pytest.raises(AuditInputError, match="inside the decision log folder"):
        load_key(inside, log_dir=tmp_path / "log")
    monkeypatch.delenv("CRM_AUDIT_LOG_KEY", raising=False)
    with pytest.raises(AuditInputError, match="no pseudonymisation key"):
        load_key(None)
    with pytest.raises(AuditInputError, match="at least 16"):
        Pseudonymiser(b"short")
