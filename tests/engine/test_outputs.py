from __future__ import annotations

import json
import os
from datetime import date
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from audit.core.types import Severity
from audit.policy.loader import load_policies
from audit.reporters import write_outputs
from audit.reporters.atomic import write_atomic
from audit.reporters.manifest import verify
from audit.resources import schemas_dir
from audit.runner import build_result


@pytest.fixture
def result(ctx, tmp_path):
    data = tmp_path / "customers.csv"
    ctx.datasets["customers"].frame.to_csv(data, index=False)
    from audit.config.loader import sha256_file

    inputs = [{"role": "dataset", "kind": "file", "path": str(data), "sha256": sha256_file(data)}]
    return build_result(ctx, load_policies(["default"]), fail_on=Severity.MEDIUM, inputs=inputs, today=date(2026, 11, 1)), data


def test_all_outputs_valid(result, tmp_path):
    res, _ = result
    out = tmp_path / "out"
    written = write_outputs(res, out, ("json", "html", "junit", "sarif", "md"))
    assert set(written) == {"findings.json", "report.html", "junit.xml", "results.sarif", "summary.md", "manifest.json"}
    findings = json.loads((out / "findings.json").read_text())
    jsonschema.validate(findings, json.loads((schemas_dir() / "findings.schema.json").read_text()))
    assert findings["gate"]["verdict"] == "FAIL"  # medium missingness fails at fail-on medium
    sarif = json.loads((out / "results.sarif").read_text())
    jsonschema.validate(sarif, json.loads((schemas_dir() / "sarif-2.1.0.json").read_text()))
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} <= rule_ids
    assert any(r["level"] == "warning" for r in sarif["runs"][0]["results"])  # medium -> warning
    junit = ET.parse(out / "junit.xml").getroot()
    names = [tc.get("name") for tc in junit.iter("testcase")]
    assert "[MEDIUM][dq.missingness] dataset:customers" in names
    assert int(junit.get("failures")) == sum(1 for f in res.findings if f.status.value == "fail")
    md = (out / "summary.md").read_text()
    assert "gate FAILED" in md and "dq.missingness" in md


def test_junit_skipped_and_waived(ctx, write_yaml, tmp_path):
    p = write_yaml("p.yaml", 'metadata: {id: p, title: P, version: "1", jurisdiction: EU}\nextends: [default]\nwaivers:\n  - {check: dq.missingness, subject: "dataset:customers", reason: cleansing, approved_by: CDO, expires: 2030-01-01}\n')
    res = build_result(ctx, load_policies([str(p)]), fail_on=Severity.HIGH, today=date(2026, 11, 1))
    write_outputs(res, tmp_path / "o", ("junit",))
    root = ET.parse(tmp_path / "o" / "junit.xml").getroot()
    skipped = {tc.get("name"): tc.find("skipped").get("message") for tc in root.iter("testcase") if tc.find("skipped") is not None}
    assert "waived: cleansing" in skipped["[MEDIUM][dq.missingness] dataset:customers"]
    assert any(m.startswith("skipped:") for m in skipped.values())  # l-diversity has no sensitive column


def test_verify_detects_changed_input_and_output(result, tmp_path):
    res, data = result
    out = tmp_path / "out"
    write_outputs(res, out, ("json", "md"))
    ok, lines = verify(out)
    assert ok, lines
    data.write_text(data.read_text() + "C9999,F,30,100,1,x@example.com\n")
    ok, lines = verify(out)
    assert not ok and any(line.startswith("CHANGED  dataset") for line in lines)
    data.write_text(data.read_text())  # still changed
    (out / "summary.md").write_text("tampered")
    ok, lines = verify(out)
    assert any("CHANGED  output summary.md" in line for line in lines)


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "findings.json"
    write_atomic(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new content")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_render_failure_writes_nothing(result, tmp_path, monkeypatch):
    res, _ = result
    from audit.reporters import sarif

    monkeypatch.setattr(sarif, "render", lambda r, **k: (_ for _ in ()).throw(RuntimeError("renderer bug")))
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_outputs(res, out, ("json", "sarif"))
    assert not out.exists() or not any(out.iterdir())
