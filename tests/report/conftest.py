from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from audit.core.gate import evaluate_gate
from audit.core.result import AuditResult

from .sample import realistic_result


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="session")
def result(report_dir: Path) -> AuditResult:
    return realistic_result(report_dir / "inputs")


@pytest.fixture(scope="session")
def small_result(result: AuditResult) -> AuditResult:
    """The engine's own findings only: no model, no extras, no baseline (renders fast, no chart)."""
    engine_only = tuple(dataclasses.replace(f, baseline=None) for f in result.findings if f.check_id.startswith(("dq.", "privacy.")))
    return dataclasses.replace(result, findings=engine_only, models=(), extras={}, resolved=(), gate=evaluate_gate(engine_only))


@pytest.fixture(scope="session")
def html_text(result: AuditResult) -> str:
    from audit.reporters import html

    return html.render(result)


@pytest.fixture(scope="session")
def html_file(html_text: str, report_dir: Path) -> Path:
    path = report_dir / "report.html"
    path.write_text(html_text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pdf_bytes(result: AuditResult) -> bytes:
    from audit.reporters import pdf

    return pdf.render(result)


@pytest.fixture(scope="session")
def pdf_file(pdf_bytes: bytes, report_dir: Path) -> Path:
    path = report_dir / "report.pdf"
    path.write_bytes(pdf_bytes)
    return path
