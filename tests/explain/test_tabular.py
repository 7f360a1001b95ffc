"""SHAP explanations of tabular models: additivity, grouping, row selection, summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.explain import explain_classifier, explain_regressor

from .conftest import FEATURES, build_artifact

# SHAP values + base value must reproduce the model output in the explained space
# to this absolute tolerance (outputs are probabilities or log-odds of order 1).
ADDITIVITY_TOL = 1e-8


def _check_additive(exp, tol: float = ADDITIVITY_TOL) -> None:
    recon = exp.values.sum(axis=1) + exp.base_values
    assert np.max(np.abs(recon - exp.output)) <= tol
    assert exp.additivity_error <= tol


def test_tree_explainer_is_additive_in_probability(forest_artifact):
    exp = explain_classifier(forest_artifact)
    assert exp.explainer.startswith("tree")
    assert exp.output_space == "probability"
    assert exp.values.shape == (len(forest_artifact.X_eval), len(FEATURES))
    assert exp.feature_names == FEATURES
    _check_additive(exp)
    # the explained output is the model's own score
    assert np.allclose(exp.output, forest_artifact.y_score, atol=1e-12)


def test_gradient_boosting_is_explained_in_log_odds():
    from sklearn.ensemble import GradientBoostingClassifier

    art = build_artifact(GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0), FEATURES)
    exp = explain_classifier(art)
    assert exp.explainer.startswith("tree")
    assert exp.output_space == "log-odds"
    _check_additive(exp)


def test_calibrated_forest_explains_uncalibrated_average(forest_artifact):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import RandomForestClassifier

    model = CalibratedClassifierCV(RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0), cv=2)
    art = build_artifact(model, FEATURES)
    exp = explain_classifier(art)
    assert exp.explainer.startswith("tree")
    assert any("UNCALIBRATED" in note for note in exp.notes)
    _check_additive(exp)
    fitted = art.estimator.named_steps["model"].calibrated_classifiers_
    Xt = art.estimator[:-1].transform(art.X_eval)
    uncalibrated = np.mean([c.estimator.predict_proba(Xt)[:, 1] for c in fitted], axis=0)
    assert np.allclose(exp.output, uncalibrated, atol=1e-12)


def test_linear_explainer_is_additive_in_log_odds(logistic_artifact):
    exp = explain_classifier(logistic_artifact)
    assert exp.explainer.startswith("linear")
    assert exp.output_space == "log-odds"
    _check_additive(exp)
    decision = logistic_artifact.estimator.decision_function(logistic_artifact.X_eval)
    assert np.allclose(exp.output, decision, atol=1e-10)


@pytest.mark.parametrize("fixture", ["mlp_artifact", "svc_artifact"])
def test_permutation_explainer_is_additive_in_probability(fixture, request):
    art = request.getfixturevalue(fixture)
    exp = explain_classifier(art, agnostic_background=8)
    assert exp.explainer.startswith("permutation")
    assert exp.output_space == "probability"
    _check_additive(exp)
    # the calibrated SVC is explained on the score the decision used
    assert np.allclose(exp.output, art.y_score, atol=1e-10)


def test_svc_fast_path_is_verified(svc_artifact):
    exp = explain_classifier(svc_artifact, rows=np.arange(10))
    assert any("checked against predict_proba" in note for note in exp.notes)


def test_margin_space_for_svc_without_probabilities():
    from sklearn.svm import SVC

    art = build_artifact(SVC(kernel="rbf"), FEATURES)
    # the artifact's y_score is irrelevant here; explain the decision function
    exp = explain_classifier(art, rows=np.arange(15), agnostic_background=5)
    assert exp.output_space == "margin"
    _check_additive(exp)


def _two_feature_mlp():
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=500, random_state=1)
    return build_artifact(model, ["tenure_months", "region"])


def test_batched_engine_equals_exact_shapley_values_for_two_features():
    """With two players one antithetic permutation covers both orders, so the estimate is exact."""
    import pandas as pd

    art = _two_feature_mlp()
    exp = explain_classifier(art, rows=np.arange(6), agnostic_background=5, seed=0)
    # rebuild the same background sample and compute Shapley values by enumeration
    rng = np.random.default_rng(0)
    background = art.X_train_sample.iloc[np.sort(rng.choice(len(art.X_train_sample), size=5, replace=False))]

    def value(row: pd.Series, keep: set[str]) -> float:
        masked = background.copy()
        for feature in keep:
            masked[feature] = row[feature]
        return float(art.estimator.predict_proba(masked)[:, 1].mean())

    for i in range(6):
        row = art.X_eval.iloc[i]
        v_none, v_t, v_r = value(row, set()), value(row, {"tenure_months"}), value(row, {"region"})
        v_all = value(row, {"tenure_months", "region"})
        phi_t = 0.5 * ((v_t - v_none) + (v_all - v_r))
        phi_r = 0.5 * ((v_r - v_none) + (v_all - v_t))
        assert exp.values[i] == pytest.approx([phi_t, phi_r], abs=1e-10)
        assert exp.base_values[i] == pytest.approx(v_none, abs=1e-12)


@pytest.mark.slow  # SHAP's permutation explainer JIT-compiles on first use (several seconds)
def test_batched_engine_matches_shap_permutation_explainer_when_exact():
    art = _two_feature_mlp()
    ours = explain_classifier(art, rows=np.arange(12), agnostic_background=6, engine="batched")
    theirs = explain_classifier(art, rows=np.arange(12), agnostic_background=6, engine="shap")
    assert theirs.explainer == "permutation (SHAP PermutationExplainer)"
    assert np.allclose(ours.values, theirs.values, atol=1e-10)
    assert np.allclose(ours.base_values, theirs.base_values, atol=1e-12)


def test_worker_processes_give_the_same_values(mlp_artifact, forest_artifact, monkeypatch):
    from audit.explain import _parallel

    if not _parallel.can_fork():
        pytest.skip("needs fork")
    monkeypatch.setattr(_parallel, "MIN_ROWS_PER_WORKER", 10)
    for art in (mlp_artifact, forest_artifact):
        one = explain_classifier(art, n_jobs=1)
        two = explain_classifier(art, n_jobs=2)
        assert np.allclose(one.values, two.values, atol=1e-12)


def test_permutation_is_deterministic_for_a_seed(mlp_artifact):
    a = explain_classifier(mlp_artifact, rows=np.arange(20), seed=3)
    b = explain_classifier(mlp_artifact, rows=np.arange(20), seed=3)
    assert np.array_equal(a.values, b.values)


def test_one_hot_columns_sum_to_the_original_feature(forest_artifact, logistic_artifact):
    for art in (forest_artifact, logistic_artifact):
        exp = explain_classifier(art)
        owners = np.array(exp.transformed_owner)
        assert (owners == "region").sum() == 3  # three one-hot columns
        region_cols = exp.transformed_values[:, owners == "region"]
        j = exp.feature_names.index("region")
        assert np.allclose(region_cols.sum(axis=1), exp.values[:, j], atol=1e-12)
        # grouping keeps the total, so additivity survives it
        assert np.allclose(exp.transformed_values.sum(axis=1), exp.values.sum(axis=1), atol=1e-12)
        _check_additive(exp)


def test_values_are_reported_in_original_units(forest_artifact):
    exp = explain_classifier(forest_artifact, rows=[3, 7])
    assert list(exp.row_index) == [3, 7]
    assert list(exp.ids) == list(forest_artifact.ids[[3, 7]])
    assert exp.data["income"].tolist() == forest_artifact.X_eval["income"].iloc[[3, 7]].tolist()
    assert exp.data["region"].tolist() == forest_artifact.X_eval["region"].iloc[[3, 7]].tolist()


def test_rows_plus_uniform_sample(forest_artifact):
    adverse = np.zeros(len(forest_artifact.X_eval), dtype=bool)
    adverse[:5] = True
    exp = explain_classifier(forest_artifact, rows=adverse, max_rows=30, seed=1)
    assert set(range(5)) <= set(exp.row_index.tolist())
    assert exp.global_mask.sum() == 30
    assert exp.n_rows == len(np.union1d(np.arange(5), exp.row_index[exp.global_mask]))
    assert exp.positions([0, 4]).min() >= 0


def test_global_importance_is_sorted_and_finds_the_signal(logistic_artifact):
    imp = explain_classifier(logistic_artifact).global_importance()
    values = list(imp.values())
    assert values == sorted(values, reverse=True)
    assert set(list(imp)[:3]) == {"tenure_months", "n_tickets", "region"}  # income carries no signal


def test_sample_for_chart_is_json_ready(forest_artifact):
    exp = explain_classifier(forest_artifact)
    chart = exp.sample_for_chart(n=40, seed=0)
    json.dumps(chart)
    assert chart["features"] == list(exp.global_importance())
    assert len(chart["shap"]) == 40 and len(chart["shap"][0]) == len(FEATURES)
    region = chart["features"].index("region")
    numeric = chart["features"].index("tenure_months")
    scaled = np.array([row[numeric] for row in chart["values_scaled"]], dtype=float)
    assert scaled.min() >= 0.0 and scaled.max() <= 1.0
    assert all(row[region] is None for row in chart["values_scaled"])


def test_regressor_is_explained_in_raw_units():
    from sklearn.ensemble import RandomForestRegressor

    art = build_artifact(RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0), FEATURES, regressor=True)
    exp = explain_regressor(art)
    assert exp.output_space == "raw"
    _check_additive(exp, tol=1e-6)  # outputs are in the hundreds


def test_forced_method_must_fit_the_model(forest_artifact):
    with pytest.raises(ValueError):
        explain_classifier(forest_artifact, method="linear")
    exp = explain_classifier(forest_artifact, method="permutation", rows=np.arange(5), agnostic_background=4)
    assert exp.explainer.startswith("permutation")
    _check_additive(exp)
