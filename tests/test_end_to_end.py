"""The main job end to end: the demo audit writes every output, and none holds raw personal data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from audit.cli import main

ROOT = Path(__file__).resolve().parents[1]
N_CUSTOMERS = 1200


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    code = main(["run", "--customers", str(N_CUSTOMERS), "--out", str(out), "--format", "html,json,junit,sarif,md,pdf"])
    from audit.crm.demo import generate_demo

    return code, out, generate_demo(n_customers=N_CUSTOMERS, seed=7)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _outputs(out: Path) -> dict[str, str]:
    texts = {name: (out / name).read_text(encoding="utf-8") for name in ("report.html", "findings.json", "summary.md", "junit.xml", "results.sarif")}
    texts["report.pdf"] = _pdf_text(out / "report.pdf")
    return texts


@pytest.mark.slow
def test_demo_run_writes_all_outputs_and_fails_the_gate(demo_run):
    code, out, _ = demo_run
    assert {p.name for p in out.iterdir()} == {"findings.json", "report.html", "report.pdf", "junit.xml", "results.sarif", "summary.md", "manifest.json"}
    doc = json.loads((out / "findings.json").read_text())
    assert code == 1 and doc["gate"]["verdict"] == "FAIL"  # the demo plants high-severity problems
    kinds = {m["kind"] for m in doc["models"]}
    assert kinds == {"classifier", "regressor", "segmentation", "recommender", "text_classifier"}
    for m in doc["models"]:
        assert m["algorithm"] and m["metrics"], m["name"]
    assert not [f for f in doc["findings"] if f["status"] == "error"]
    assert main(["verify", str(out)]) == 0


@pytest.mark.slow
def test_no_raw_personal_data_in_any_output(demo_run):
    _, out, demo = demo_run
    values = set(demo.pii_truth["value"].astype(str))
    for col in ("name", "email", "phone", "address", "cn_resident_id"):
        values |= set(demo.customers[col].dropna().astype(str))
    values = {v for v in values if len(v) >= 5}
    for name, text in _outputs(out).items():
        leaked = sorted(v for v in values if v in text)
        assert not leaked, f"{name} holds raw personal data: {leaked[:5]}"


@pytest.mark.slow
def test_own_scanner_finds_no_demo_pii_in_the_outputs(demo_run):
    """Scan the outputs with the project's PII scanner: any span it finds must not be demo data."""
    from audit.pii import PIIScanner

    _, out, demo = demo_run
    scanner = PIIScanner(model=None)  # pattern recognizers: e-mails, phones, IDs, cards
    known = set(demo.customers["email"].astype(str)) | set(demo.customers["phone"].astype(str)) | set(demo.customers["cn_resident_id"].dropna().astype(str)) | set(demo.pii_truth["value"].astype(str))
    known_digits = {re.sub(r"\D", "", v) for v in known if sum(ch.isdigit() for ch in v) >= 8}
    for name, text in _outputs(out).items():
        chunks = [text[i : i + 5000] for i in range(0, len(text), 5000)]
        for hit in scanner.scan_texts(chunks, language="auto"):
            span = chunks[hit.row_id][hit.start : hit.end]
            assert span not in known and re.sub(r"\D", "", span) not in known_digits, f"{name}: {hit.entity_type} from the demo data"


@pytest.mark.slow
def test_wheel_ships_policies_templates_and_schemas(tmp_path):
    """Build the wheel and import the package from it alone: data folders resolve inside the package."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"could not build a wheel here: {build.stderr[-300:]}")
    wheel = next(tmp_path.glob("crm_audit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("audit/_policies/default.yaml", "audit/_policies/gdpr.yaml", "audit/_templates/report.html.j2", "audit/_templates/explain.html.j2", "audit/_schemas/findings.schema.json", "audit/_schemas/sarif-2.1.0.json", "audit/pii/data/special_categories.yaml", "audit/fairness/data/identity_terms.yaml"):
        assert needed in names, needed
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = "import audit.resources as r, audit.policy.loader as l; print(r.policies_dir()); print(r.templates_dir()); print(sorted(l.available_packs()))"
    res = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(str(site)) and lines[1].startswith(str(site)), lines
    assert "gdpr" in lines[2] and "ci-gate" in lines[2]
