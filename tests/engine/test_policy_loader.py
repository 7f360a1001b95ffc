from __future__ import annotations

from datetime import date

import pytest

from audit.core.errors import AuditInputError
from audit.core.types import Severity
from audit.policy.loader import load_policies, validate_files

BASE = """\
metadata: {id: base, title: Base, version: "1.0", jurisdiction: EU}
checks:
  - id: dq.missingness
    params: {max_null_rate: 0.05}
  - id: privacy.k_anonymity
    params: {k: 5}
attestations:
  - id: lawful_basis
    question: What is the lawful basis?
    regulations: [GDPR Art. 6]
"""


def test_default_pack_loads():
    pol = load_policies(["default"])
    assert "dq.missingness" in pol.checks
    assert pol.packs[0]["id"] == "default"
    assert len(pol.packs[0]["sha256"]) == 64


def test_extends_overrides_params_and_severity(write_yaml, tmp_path):
    write_yaml("base.yaml", BASE)
    child = write_yaml(
        "child.yaml",
        """\
metadata: {id: child, title: Child, version: "2.0", jurisdiction: [EU, CN]}
extends: [base.yaml]
checks:
  - id: privacy.k_anonymity
    severity: critical
    params: {k: 20}
  - id: dq.missingness
    enabled: false
attestations:
  - id: lawful_basis
    question: What is the lawful basis?
    answer: Contract (Art. 6(1)(b))
    attested_by: DPO Jane Roe
    date: 2026-01-15
""",
    )
    pol = load_policies([str(child)])
    assert [p["id"] for p in pol.packs] == ["base", "child"]
    rc = pol.checks["privacy.k_anonymity"]
    assert rc.params.k == 20 and rc.severity is Severity.CRITICAL
    assert "dq.missingness" not in pol.checks
    att, _ = pol.attestations["lawful_basis"]
    assert att.attested_by == "DPO Jane Roe" and att.date == date(2026, 1, 15)


def test_waiver_expiry(write_yaml):
    p = write_yaml(
        "w.yaml",
        BASE
        + """\
waivers:
  - check: privacy.k_anonymity
    subject: "dataset:*"
    reason: release is internal only
    approved_by: CISO
    expires: 2026-06-30
""",
    )
    pol = load_policies([str(p)])
    active, expired = pol.waiver_for("privacy.k_anonymity", "dataset:customers", date(2026, 6, 30))
    assert active is not None and expired is None
    active, expired = pol.waiver_for("privacy.k_anonymity", "dataset:customers", date(2026, 7, 1))
    assert active is None and expired is not None
    active, expired = pol.waiver_for("privacy.k_anonymity", "model:x", date(2026, 1, 1))
    assert active is None and expired is None


def test_all_errors_reported_at_once_with_lines(write_yaml):
    p = write_yaml(
        "bad.yaml",
        """\
metadata:
  id: bad
  title: Bad
  version: "1"
  jurisdiction: EU
  colour: blue
checks:
  - id: dq.missingnes
  - id: privacy.k_anonymity
    params: {k: "five", kk: 3}
""",
    )
    errors = validate_files([str(p)])
    rendered = [e.render() for e in errors]
    assert len(errors) == 4, rendered
    by_msg = {e.message: e for e in errors}
    colour = by_msg["unknown key 'colour'"]
    assert colour.line == 6 and colour.path == "metadata.colour" and "jurisdiction" in colour.hint
    unknown = by_msg["unknown check id 'dq.missingnes'"]
    assert unknown.line == 8 and "dq.missingness" in unknown.hint
    kk = [e for e in errors if "'kk'" in e.message][0]
    assert kk.path == "checks[1].params.kk" and "allowed params: generalise, k" in kk.hint
    assert any(e.path == "checks[1].params.k" for e in errors)
    assert all(e.file == str(p) for e in errors)


def test_malformed_yaml_names_line(write_yaml):
    p = write_yaml("broken.yaml", "metadata: {id: x\nchecks: [\n")
    errors = validate_files([str(p)])
    assert len(errors) == 1 and "malformed YAML" in errors[0].message and errors[0].line is not None


def test_missing_file_never_falls_back(tmp_path):
    with pytest.raises(AuditInputError) as exc:
        load_policies([str(tmp_path / "nope.yaml")])
    assert "not found" in exc.value.render()
    with pytest.raises(AuditInputError) as exc:
        load_policies(["no-such-pack"])
    assert "unknown policy pack" in exc.value.render() and "default" in exc.value.render()


def test_circular_extends(write_yaml):
    write_yaml("a.yaml", 'metadata: {id: a, title: A, version: "1", jurisdiction: EU}\nextends: [b.yaml]\n')
    b = write_yaml("b.yaml", 'metadata: {id: b, title: B, version: "1", jurisdiction: EU}\nextends: [a.yaml]\n')
    errors = validate_files([str(b)])
    assert any("circular" in e.message for e in errors)


def test_unknown_waiver_check_id(write_yaml):
    p = write_yaml("w.yaml", BASE + "waivers:\n  - {check: dq.dupes, reason: r, approved_by: me, expires: 2030-01-01}\n")
    errors = validate_files([str(p)])
    assert len(errors) == 1 and "dq.duplicates" in errors[0].hint
