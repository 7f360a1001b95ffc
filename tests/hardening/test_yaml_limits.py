"""Hostile and broken YAML: every case is a located AuditInputError (exit 2), never a traceback or OOM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.config.loader import load_config
from audit.core import yamlio
from audit.core.errors import AuditInputError
from audit.core.yamlio import load_yaml, parse_yaml_text
from audit.policy.loader import load_policies

META = 'metadata: {id: x, title: X, version: "1", jurisdiction: EU}\n'


def billion_laughs(levels: int = 9, fan: int = 9) -> str:
    text = "a: &a [" + ", ".join(['"lol"'] * fan) + "]\n"
    prev = "a"
    for i in range(levels - 1):
        name = f"l{i}"
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * fan) + "]\n"
        prev = name
    return text


def _error(fn, *args, **kw) -> str:
    with pytest.raises(AuditInputError) as exc:
        fn(*args, **kw)
    return exc.value.render()


def test_alias_bomb_is_refused_naming_the_limit(tmp_path):
    p = tmp_path / "bomb.yaml"
    p.write_text(META + billion_laughs(), encoding="utf-8")
    msg = _error(load_policies, [str(p)])
    assert f"{p}:" in msg and "alias" in msg and "100,000 nodes" in msg


def test_alias_bomb_run_exits_2_in_a_bounded_process(tmp_path):
    """The CLI on an alias bomb exits 2 under an address-space cap (an expanding loader runs out of memory or time)."""
    cfg = tmp_path / "audit.yaml"
    cfg.write_text(billion_laughs(levels=12), encoding="utf-8")
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30));"
        "from audit.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", "--config", str(cfg), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )
    assert proc.returncode == 2, proc.stderr
    assert "refused YAML" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_plain_aliases_still_work():
    doc = parse_yaml_text("shared: &p {k: 5}\nchecks:\n  - params: *p\n  - params: {<<: *p, k: 7}\n")
    assert doc.data["checks"][0]["params"] == {"k": 5}
    assert doc.data["checks"][1]["params"] == {"k": 7}


def test_too_many_alias_uses():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (yamlio.MAX_ALIASES + 1)) + "]\n"
    assert "alias uses" in _error(parse_yaml_text, text, file="f.yaml")


def test_recursive_alias_is_refused():
    msg = _error(parse_yaml_text, "a: &a [1, *a]\n", file="f.yaml")
    assert msg.startswith("f.yaml:1:") and "recursive alias" in msg


def test_depth_limit():
    deep = "a: " + "[" * (yamlio.MAX_DEPTH + 5) + "]" * (yamlio.MAX_DEPTH + 5) + "\n"
    assert f"nested more than {yamlio.MAX_DEPTH} levels" in _error(parse_yaml_text, deep, file="f.yaml")
    ok = "a: " + "[" * (yamlio.MAX_DEPTH - 2) + "]" * (yamlio.MAX_DEPTH - 2) + "\n"
    parse_yaml_text(ok)


def test_size_limit(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_bytes(b"# " + b"x" * yamlio.MAX_BYTES + b"\n")
    assert "larger than 1024 KiB" in _error(load_yaml, p)


def test_duplicate_top_level_key_names_both_lines(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text(META + "settings: {fail_on: high}\nchecks: []\nsettings: {fail_on: low}\n", encoding="utf-8")
    msg = _error(load_policies, [str(p)])
    assert f"{p}:4:" in msg and "'settings' appears twice: line 2 and line 4" in msg


def test_duplicate_nested_key_in_config(tmp_path):
    p = tmp_path / "audit.yaml"
    p.write_text("datasets:\n  c:\n    source: {path: a.csv}\n    source: {path: b.csv}\nmodels: []\n", encoding="utf-8")
    msg = _error(load_config, p)
    assert f"{p}:4: datasets.c.source:" in msg and "line 3 and line 4" in msg


def test_every_duplicate_is_reported_at_once():
    msg = _error(parse_yaml_text, "a: 1\na: 2\nb: {x: 1, x: 2}\n", file="f.yaml")
    assert "'a' appears twice: line 1 and line 2" in msg and "'x' appears twice: line 3 and line 3" in msg


def test_non_utf8_policy_names_the_line(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes((META + "checks: []\n# café\n").encode("latin-1"))
    msg = _error(load_policies, [str(p)])
    assert f"{p}:3:" in msg and "not valid UTF-8" in msg and "0xe9" in msg


def test_utf16_is_named(tmp_path):
    p = tmp_path / "u16.yaml"
    p.write_bytes((META + "checks: []\n").encode("utf-16"))
    assert "UTF-16" in _error(load_policies, [str(p)])


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + (META + "checks: []\n").encode())
    assert load_policies([str(p)]).packs[0]["id"] == "x"


@pytest.mark.parametrize("quoted", [False, True])
def test_impossible_waiver_date(tmp_path, quoted):
    date = '"2027-02-30"' if quoted else "2027-02-30"
    p = tmp_path / "w.yaml"
    p.write_text(META + f"checks: []\nwaivers:\n  - check: dq.missingness\n    reason: r\n    approved_by: a\n    expires: {date}\n", encoding="utf-8")
    msg = _error(load_policies, [str(p)])
    assert f"{p}:7:" in msg and "2027-02-30" in msg


def test_impossible_attestation_date(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text(META + "attestations:\n  - id: q\n    question: Q?\n    date: 2026-13-01\n", encoding="utf-8")
    msg = _error(load_policies, [str(p)])
    assert f"{p}:5:" in msg and "impossible date '2026-13-01'" in msg and "YYYY-MM-DD" in msg


def test_impossible_signoff_date_in_config(tmp_path):
    p = tmp_path / "audit.yaml"
    p.write_text("datasets: {}\nmodels: []\nsignoff:\n  prepared_on: 2027-02-30\n", encoding="utf-8")
    msg = _error(load_config, p)
    assert f"{p}:4:" in msg and "impossible date" in msg


@pytest.mark.parametrize(
    "text, expect",
    [
        ('a: "x\x07y"\n', "control character U+0007"),
        ("a: !!int zz\n", "cannot read the value 'zz'"),
        ("a: !!python/object:os.system {}\n", "malformed YAML"),
        ("a: [1, 2\n", "malformed YAML"),
        ("? [a, b]\n: 1\n", "malformed YAML"),
    ],
)
def test_other_bad_yaml_is_located(text, expect):
    assert expect in _error(parse_yaml_text, text, file="f.yaml")


def test_cli_validate_exit_codes(tmp_path):
    from audit.cli import main

    p = tmp_path / "dup.yaml"
    p.write_text(META + "checks: []\nchecks: []\n", encoding="utf-8")
    assert main(["policy", "validate", str(p)]) == 2
    ok = tmp_path / "ok.yaml"
    ok.write_text(META + "checks: []\n", encoding="utf-8")
    assert main(["policy", "validate", str(ok)]) == 0


def test_shipped_packs_are_within_limits():
    for p in sorted((Path(__file__).resolve().parents[2] / "policies").glob("*.yaml")):
        load_yaml(p)
