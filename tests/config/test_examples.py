"""examples/<kind>/: the generator reproduces the committed data, and every example audits what it plants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# kind -> (model, check, subject) that must FAIL: the problem each data set plants
PLANTED = {
    "classifier": [("approval_lr", "fairness.selection_rate_impact_ratio", "model:approval_lr/by:age")],
    "regressor": [("value_gbm", "proxy.association", "model:value_gbm/by:age")],
    "segmentation": [("segments", "fairness.cluster_balance", "model:segments/by:age"), ("segments", "fairness.segment_treatment_ratio", "model:segments/by:age")],
    "recommender": [("recs_knn", "fairness.price_differential", "model:recs_knn/by:gender"), ("recs_content", "rec.non_personalised_option", "model:recs_content")],
    "text_classifier": [("sentiment", "nlp.counterfactual_flip_rate", "model:sentiment/swap:gender"), ("sentiment", "nlp.pii_in_training_text", "model:sentiment")],
}


def test_generator_reproduces_the_committed_example_data(gen, tmp_path):
    written = gen.write(tmp_path)
    assert {p.parent.name for p in written} == set(gen.KINDS) == set(PLANTED)
    for path in written:
        committed = EXAMPLES / path.parent.name / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run python examples/generate.py"


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_example_runs_and_finds_what_it_plants(kind, tmp_path):
    out = tmp_path / "out"
    code = main(["run", "--config", str(EXAMPLES / kind / "audit.yaml"), "--out", str(out)])
    assert code in (0, 1)
    doc = json.loads((out / "findings.json").read_text())
    kinds = {m["name"]: m["kind"] for m in doc["models"]}
    status = {(f["check_id"], f["subject"]): f["status"] for f in doc["findings"]}
    for model, check, subject in PLANTED[kind]:
        assert kinds[model] == kind
        assert status.get((check, subject)) == "fail", (check, subject, status.get((check, subject)))
    assert not [f for f in doc["findings"] if f["status"] == "error"]
