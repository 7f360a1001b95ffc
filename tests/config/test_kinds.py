"""The model-kind table is the one source of kind and source names; unsupported combinations fail at load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from audit.cli import main
from audit.config.builders import BUILDERS
from audit.config.models import ModelConfig
from audit.core.kinds import KINDS, checks_for, model_kind, source_names
from audit.core.types import SubjectKind
from audit.crm import artifacts

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_has_its_subject_artifact_and_builders():
    assert set(get_args(artifacts.ArtifactKind)) == set(KINDS)
    for name, kind in KINDS.items():
        assert kind.subject is SubjectKind(name), "a model kind is named the same in audit.yaml and in the checks"
        cls = getattr(artifacts, kind.artifact)
        assert cls.__dataclass_fields__["kind"].default == name
        for source in kind.sources:
            assert (name, source) in BUILDERS, f"no builder for kind {name}, source {source}"
    assert set(BUILDERS) == {(k, s) for k, kind in KINDS.items() for s in kind.sources}


def test_config_and_schema_list_exactly_the_table():
    assert set(get_args(ModelConfig.model_fields["kind"].annotation)) == set(KINDS)
    assert set(get_args(ModelConfig.model_fields["source"].annotation)) == set(source_names())
    schema = json.loads((ROOT / "schemas" / "findings.schema.json").read_text())
    model_props = schema["properties"]["models"]["items"]["properties"]
    assert set(model_props["kind"]["enum"]) == set(KINDS)
    assert set(model_props["source"]["enum"]) == set(source_names())
    kinds_enum = set(schema["$defs"]["finding"]["properties"]["subject_kind"]["enum"]) if "finding" in schema.get("$defs", {}) else None
    if kinds_enum is not None:
        assert {k.value for k in SubjectKind} == kinds_enum


def test_every_kind_is_measured_by_checks():
    assert {"fairness.user_quality_gap", "fairness.exposure_parity", "rec.popularity_bias", "fairness.price_differential", "rec.non_personalised_option"} <= set(checks_for("recommender"))
    assert {"nlp.counterfactual_flip_rate", "nlp.counterfactual_score_gap", "nlp.pii_in_training_text", "perf.by_group"} <= set(checks_for("text_classifier"))
    assert {"fairness.cluster_balance", "fairness.cluster_dist_tv", "fairness.segment_treatment_ratio"} <= set(checks_for("segmentation"))
    assert "fairness.demographic_parity_difference" in checks_for("classifier")
    assert "proxy.association" in checks_for("regressor")
    with pytest.raises(KeyError, match="text_model"):
        model_kind("text_model")


def test_catalogue_lists_the_kinds():
    text = (ROOT / "docs" / "checks.md").read_text()
    for name in KINDS:
        assert f"| `{name}` |" in text


BASE = """\
datasets:
  ratings:
    source: {path: ratings.csv}
    roles: {user: user_id, item: item_id, rating: rating}
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender]}
  customers:
    source: {path: customers.csv}
    roles: {id: customer_id, target: churned, text: [note]}
models:
"""


@pytest.mark.parametrize(
    ("model", "expect"),
    [
        ("{name: m, kind: recommender, source: predictions, path: p.csv, dataset: ratings}", ["a recommender cannot come from source 'predictions'", "sources supported for kind recommender: train", "recommendations ("]),
        ("{name: m, kind: segmentation, source: predictions, path: p.csv, dataset: customers}", ["a segmentation cannot come from source 'predictions'", "assignments"]),
        ("{name: m, kind: text_classifier, source: recommendations, path: p.csv, dataset: customers}", ["a text_classifier cannot come from source 'recommendations'"]),
        ("{name: m, kind: classifier, source: assignments, path: p.csv, dataset: customers}", ["a classifier cannot come from source 'assignments'"]),
        ("{name: m, kind: regressor, source: recommendations, path: p.csv, dataset: customers}", ["a regressor cannot come from source 'recommendations'"]),
        ("{name: m, kind: recommender, source: train, algorithm: kmeans, dataset: ratings}", ["unknown recommender algorithm 'kmeans'", "user_knn, content, hybrid"]),
        ("{name: m, kind: text_classifier, source: train, algorithm: svc, dataset: customers}", ["unknown text_classifier algorithm 'svc'"]),
        ("{name: m, kind: classifier, source: train, dataset: customers, treatments: {0: gold}}", ["'treatments' is not read for a classifier", "segmentation"]),
        ("{name: m, kind: recommender, source: recommendations, dataset: ratings}", ["source 'recommendations' needs 'path'", "user, item, rank and optionally score"]),
        ("{name: m, kind: recommender, source: train, algorithm: content, dataset: ratings}", ["algorithm 'content' needs an items dataset"]),
        ("{name: m, kind: recommender, source: train, dataset: customers}", ["read as ratings but its roles lack user, item, rating"]),
        ("{name: m, kind: recommender, source: train, dataset: ratings, users: people}", ["unknown dataset 'people'"]),
        ("{name: m, kind: segmentation, source: train, dataset: customers}", ["a segmentation needs the features it clusters on"]),
        ("{name: m, kind: text_classifier, source: train, dataset: ratings}", ["declares no text column"]),
        ("{name: m, kind: classifier, source: train, dataset: customers, path: model.skops}", ["source 'train' reads no file, but 'path' is set"]),
        ("{name: m, kind: text_model, source: train, dataset: customers}", ["models[0].kind", "text_classifier"]),
    ],
)
def test_unsupported_combinations_are_refused_at_load(tmp_path, capsys, model, expect):
    cfg = tmp_path / "audit.yaml"
    cfg.write_text(BASE + f"  - {model}\n")
    # no data file exists: the refusal must come from the config alone, before any data is read
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:12" in err, err
    for part in expect:
        assert part in err, err
    assert not (tmp_path / "out").exists()
