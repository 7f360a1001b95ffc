"""The config's ``pii:`` block is a strict model: a typo is exit 2 with file and line, before any data is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.cli import main
from audit.config.loader import load_config
from audit.core.errors import AuditInputError
from audit.core.options import PIIOptions

CONFIG = """\
datasets:
  crm:
    source: {{path: crm.csv}}
pii:
{pii}
"""


def _write(tmp_path: Path, pii: str) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(CONFIG.format(pii=pii), encoding="utf-8")
    return path


def test_typo_names_file_line_and_allowed_keys(tmp_path):
    path = _write(tmp_path, "  model: en_core_web_sm\n  score_thresholds: 0.5\n")
    with pytest.raises(AuditInputError) as err:
        load_config(path)
    text = err.value.render()
    assert f"{path}:6" in text and "score_thresholds" in text and "score_threshold" in text


def test_bad_values_are_errors(tmp_path):
    for bad in ("  languages: [en, fr]\n", "  score_threshold: 1.5\n", "  batch_size: 0\n", "  n_process: 0\n"):
        with pytest.raises(AuditInputError):
            load_config(_write(tmp_path, bad))


def test_block_is_read_into_the_model(tmp_path):
    cfg, _ = load_config(_write(tmp_path, "  model: null\n  languages: en\n  score_threshold: {PERSON: 0.7}\n"))
    assert cfg.pii == PIIOptions(model=None, languages=("en",), score_threshold={"PERSON": 0.7})
    assert cfg.pii.scanner_kwargs() == {"model": None, "languages": ("en",), "score_threshold": {"PERSON": 0.7}}


def test_run_exits_2_before_reading_data(tmp_path, capsys):
    path = _write(tmp_path, "  nlp_modle: x\n")  # crm.csv does not even exist
    assert main(["run", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "audit.yaml:5" in err and "nlp_modle" in err
    assert not (tmp_path / "out").exists()
