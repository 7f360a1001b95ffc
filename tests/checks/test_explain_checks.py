"""explain.reason_codes, explain.coverage, explain.protected_attribution and explain.stability.

Two logistic regressions are fitted on one synthetic churn table in which
gender drives the outcome: ``with_gender`` is given gender as a feature,
``without_gender`` is not. A third model, ``stable``, has three features of
clearly different strength, so its importance ranking survives bootstrap refits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.core.context import AuditContext, ColumnRoles, Dataset
from audit.core.types import Status
from audit.crm.artifacts import ClassifierArtifact
from audit.crm.classify import train_classifier
from audit.explain import explain_classifier, protected_attribution, stability

from .runcheck import findings

load_builtin_checks()

FEATURES = ["complaints", "tenure", "calls", "spend", "visits"]
WITH, WITHOUT, STABLE, SCORES = "model:with_gender", "model:without_gender", "model:stable", "model:scores_only"




def churn_frame() -> pd.DataFrame:
    """400 customers; women churn far more often, five behavioural features of decreasing weight."""
    rng = np.random.default_rng(7)
    n = 400
    gender = np.tile(["F", "M"], n // 2)
    X = rng.normal(size=(n, len(FEATURES)))
    logit = X @ np.array([1.2, -0.9, 0.6, 0.4, 0.2]) + np.where(gender == "F", 2.5, -2.5)
    df = pd.DataFrame(X, columns=FEATURES)
    df.insert(0, "gender", gender)
    df.insert(0, "customer_id", [f"C{i:04d}" for i in range(n)])
    df["churn"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def stable_frame() -> pd.DataFrame:
    """800 customers, three features with weights 1.5, -1.0 and 0.2 and no role for gender."""
    rng = np.random.default_rng(3)
    n = 800
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=["complaints", "tenure", "calls"])
    df.insert(0, "gender", np.tile(["F", "M"], n // 2))
    df["churn"] = (rng.random(n) < 1 / (1 + np.exp(-(X @ np.array([1.5, -1.0, 0.2]))))).astype(int)
    return df


def _train(frame: pd.DataFrame, features: list[str], name: str, **kw: Any) -> ClassifierArtifact:
    # churn is the positive label and being flagged is the adverse outcome
    return train_classifier(
        frame,
        "churn",
        features,
        "logistic_regression",
        name=name,
        purpose="test",
        dataset="customers",
        sensitive_columns=["gender"],
        favourable_outcome="negative",
        **kw,
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return churn_frame()


@pytest.fixture(scope="module")
def models(frame: pd.DataFrame) -> dict[str, ClassifierArtifact]:
    return {
        "with_gender": _train(frame, [*FEATURES, "gender"], "with_gender", id_column="customer_id"),
        "without_gender": _train(frame, FEATURES, "without_gender", id_column="customer_id"),
        "stable": _train(stable_frame(), ["complaints", "tenure", "calls"], "stable", test_size=0.5),
    }


def context(frame: pd.DataFrame, *models: Any) -> AuditContext:
    ds = Dataset(
        name="customers",
        frame=frame,
        roles=ColumnRoles(id="customer_id", protected=["gender"]),
        source="customers.csv",
        sha256="0" * 64,
    )
    return AuditContext(datasets={"customers": ds}, models=list(models), seed=0)


def adverse_rows(art: ClassifierArtifact) -> np.ndarray:
    return np.flatnonzero(np.asarray(art.y_pred) == 1)


def test_reason_codes_never_state_gender_and_flag_the_model_that_uses_it(frame, models):
    a, b = models["with_gender"], models["without_gender"]
    ctx = context(frame, a, b)
    out = findings("explain.reason_codes", ctx)
    assert {k: f.status for k, f in out.items()} == {WITH: Status.FAIL, WITHOUT: Status.PASS}
    codes = ctx.facts.reason_codes
    for art in (a, b):
        assert [c.row for c in codes[art.name]] == adverse_rows(art).tolist()
        for c in codes[art.name]:
            # a decision pushed towards churn by gender alone keeps no reason at all
            assert c.explained and len(c.reasons) <= 4 and (c.reasons or art is a)
            assert "gender" not in {r.feature for r in c.reasons}
            pushes = [r.contribution for r in c.reasons]
            assert all(p > 0 for p in pushes) and pushes == sorted(pushes, reverse=True)

    # by hand from the SHAP values: churn is adverse, so a positive value pushes towards it
    exp = ctx.memo["explanation:with_gender"]
    names = exp.feature_names
    assert exp.values.shape[1] == 6  # five features plus gender: four reasons is a real cap
    flagged = expected_reasons_ok = 0
    for c in codes["with_gender"]:
        push = exp.values[exp.positions([c.row])[0]]
        order = [j for j in np.argsort(-push, kind="stable") if push[j] > 0]
        top4 = [names[j] for j in order[:4]]
        flagged += "gender" in top4
        assert c.excluded_in_top == (["gender"] if "gender" in top4 else [])
        expected_reasons_ok += [r.feature for r in c.reasons] == [names[j] for j in order if names[j] != "gender"][:4]
    n_adverse = len(codes["with_gender"])
    assert expected_reasons_ok == n_adverse
    fail = out[WITH]
    assert fail.observed == pytest.approx(flagged / n_adverse)
    assert fail.observed > 0.5 and fail.threshold == 0.0
    assert fail.evidence["adverse_decisions"] == n_adverse == int((a.y_pred == 1).sum())
    assert fail.evidence["withheld_drivers"] == {"gender": flagged}
    assert fail.evidence["excluded_features"]["protected"] == ["gender"]
    assert fail.evidence["max_reasons"] == 4
    for ex in fail.evidence["examples"]:
        assert len(ex["reasons"]) <= 4 and not any("gender" in t.lower() for t in ex["reasons"])
        assert ex["customer"].startswith("C0") and ex["customer"].count("*") == 2  # C0123 -> C0**3
    ok = out[WITHOUT]
    assert ok.observed == 0.0 and ok.evidence["withheld_drivers"] == {}
    assert ok.evidence["adverse_decisions"] == int((b.y_pred == 1).sum())


def test_reason_codes_honour_max_reasons_and_mapping(frame, models):
    ctx = context(frame, models["without_gender"])
    findings("explain.reason_codes", ctx, max_reasons=2, mapping={"complaints": "Complaints score {value}"})
    codes = ctx.facts.reason_codes["without_gender"]
    assert max(len(c.reasons) for c in codes) == 2
    mentioned = [r for c in codes for r in c.reasons if r.feature == "complaints"]
    assert mentioned
    assert all(r.text == f"Complaints score {r.value}" for r in mentioned)


def test_coverage_is_the_share_of_adverse_decisions_with_a_stated_reason(frame, models):
    a, b = models["with_gender"], models["without_gender"]
    ctx = context(frame, a, b)
    out = findings("explain.coverage", ctx)
    assert out[WITHOUT].status is Status.PASS and out[WITHOUT].observed == 1.0
    ev = out[WITHOUT].evidence
    n_adverse = int((b.y_pred == 1).sum())
    assert (ev["adverse_decisions"], ev["explained_decisions"], ev["without_reason"]) == (n_adverse, n_adverse, 0)
    assert ev["sampled"] is False and ev["interval"] == [1.0, 1.0]
    # a decision driven towards churn by gender alone has no reason that may be stated
    exp = ctx.memo["explanation:with_gender"]
    others = [j for j, f in enumerate(exp.feature_names) if f != "gender"]
    rows = adverse_rows(a)
    stated = [(exp.values[exp.positions([r])[0], others] > 0).any() for r in rows]
    expected = float(np.mean(stated))
    got = out[WITH]
    assert 0.9 < expected < 1.0  # 50 of 51 here
    assert got.status is Status.FAIL and got.observed == pytest.approx(expected)
    assert got.evidence["without_reason"] == len(rows) - int(np.sum(stated))


def test_coverage_reuses_the_stored_reason_codes(frame, models):
    ctx = context(frame, models["without_gender"])
    findings("explain.reason_codes", ctx)
    stored = ctx.facts.reason_codes["without_gender"]
    out = findings("explain.coverage", ctx)
    assert out[WITHOUT].evidence["adverse_decisions"] == len(stored)
    assert out[WITHOUT].observed == 1.0


def test_protected_attribution_fails_only_for_the_model_fed_gender(frame, models):
    a, b = models["with_gender"], models["without_gender"]
    ctx = context(frame, a, b)
    out = findings("explain.protected_attribution", ctx)
    assert {k: f.status for k, f in out.items()} == {WITH: Status.FAIL, WITHOUT: Status.PASS}
    exp = ctx.memo["explanation:with_gender"]
    g = exp.feature_names.index("gender")
    # a linear model: the gender contribution of a woman minus a man's is the coefficient gap
    coef = dict(zip(a.estimator.named_steps["prep"].get_feature_names_out(), a.estimator.named_steps["model"].coef_[0]))
    women = exp.data["gender"].to_numpy() == "F"
    assert np.ptp(exp.values[women, g]) == pytest.approx(0.0, abs=1e-12)
    assert exp.values[women, g][0] - exp.values[~women, g][0] == pytest.approx(coef["gender_F"] - coef["gender_M"])
    # mean |SHAP| over the uniform sample (all 100 evaluation rows here) by hand
    assert exp.global_mask.all() and exp.n_rows == len(a.X_eval) == 100
    mean_abs = np.abs(exp.values).mean(axis=0)
    share = mean_abs[g] / mean_abs.sum()
    fail = out[WITH]
    assert fail.observed == pytest.approx(share)
    assert share > 0.3 and fail.threshold == 0.05
    fresh = explain_classifier(a, rows=~a.favourable_mask(), max_rows=500, seed=0)
    assert fail.observed == pytest.approx(protected_attribution(fresh, ["gender"])["combined_share"])
    assert fail.evidence["protected_used_as_features"] == ["gender"]
    assert fail.evidence["by_feature"] == {"gender": pytest.approx(share)}
    ok = out[WITHOUT]
    assert ok.observed == 0.0 and ok.evidence["protected_used_as_features"] == [] and ok.evidence["by_feature"] == {}


def test_flagged_proxies_count_towards_the_protected_share(frame, models):
    b = models["without_gender"]
    ctx = context(frame, b)
    ctx.facts.flagged_proxies = {"without_gender": {"complaints"}}
    o = findings("explain.protected_attribution", ctx)[WITHOUT]
    imp = ctx.memo["explanation:without_gender"].global_importance()
    assert o.observed == pytest.approx(imp["complaints"] / sum(imp.values()))
    assert o.status is Status.FAIL and o.evidence["flagged_proxies"] == ["complaints"]
    assert o.evidence["proxy_share"] == pytest.approx(o.observed) and o.evidence["protected_share"] == 0.0
    # the proxy is also withheld from the stated reasons
    findings("explain.reason_codes", ctx)
    assert all(r.feature != "complaints" for c in ctx.facts.reason_codes["without_gender"] for r in c.reasons)


def test_stability_of_a_stable_logistic_regression(frame, models):
    art = models["stable"]
    o = findings("explain.stability", context(frame, art))[STABLE]
    rhos = o.evidence["per_refit_rho"]
    assert len(rhos) == 3 and all(-1.0 <= r <= 1.0 for r in rhos)
    assert -1.0 <= o.observed <= 1.0 and o.observed == pytest.approx(np.mean(rhos))
    assert o.status is Status.PASS and o.threshold == 0.8
    lib = stability(art, n_refits=3, top_k=10, seed=0)
    assert o.observed == pytest.approx(lib.mean_rho)
    assert rhos == pytest.approx(lib.rhos)
    two = findings("explain.stability", context(frame, art), n_refits=2)[STABLE]
    assert len(two.evidence["per_refit_rho"]) == 2 and two.evidence["n_refits"] == 2


def test_predictions_only_artifact(frame, models):
    scores = replace(models["with_gender"], name="scores_only", estimator=None, preprocessor=None)
    ctx = context(frame, scores)
    for check_id in ("explain.reason_codes", "explain.protected_attribution", "explain.stability"):
        o = findings(check_id, ctx)[SCORES]
        assert o.status is Status.SKIPPED and "predictions only" in o.message, check_id
    cov = findings("explain.coverage", ctx)[SCORES]
    assert cov.status is Status.FAIL and cov.observed == 0.0 and cov.threshold == 1.0
    assert "predictions only" in cov.message
    assert not ctx.facts.reason_codes


def test_adverse_decisions_beyond_the_sample_size_are_sampled_with_a_stated_bound(frame, models):
    """With a 25-point margin the design needs 30 decisions: the 51 adverse ones are sampled by gender."""
    a = models["with_gender"]
    full = findings("explain.coverage", context(frame, a))[WITH]
    ctx = context(frame, a)
    got = findings("explain.coverage", ctx, sample_margin=0.25)[WITH]
    ev = got.evidence
    assert ev["sampled"] is True and ev["sample_size"] == 30 and ev["adverse_decisions"] == full.evidence["adverse_decisions"]
    assert set(ev["sampling"]["strata"]) == {"gender=F", "gender=M"}
    assert sum(s["sampled"] for s in ev["sampling"]["strata"].values()) == 30
    low, high = ev["interval"]
    assert low <= got.observed <= high and low <= full.observed <= high
    assert "stratified sample" in got.message and "bound" in got.message
    assert "30 of" in ctx.report.sampling
    # only the sampled decisions were explained
    exp = ctx.memo["explanation:with_gender"]
    sample = ctx.memo["adverse_sample:with_gender:0.25:0.95"]
    assert set(sample.positions.tolist()) <= set(exp.row_index.tolist())
    assert ev["explained_decisions"] == 30


def test_protected_attribution_states_its_interval(frame, models):
    got = findings("explain.protected_attribution", context(frame, models["with_gender"]))[WITH]
    low, high = got.evidence["interval"]
    assert low <= got.observed <= high
    assert got.evidence["sample_rows"] == len(models["with_gender"].X_eval) and "bootstrap interval" in got.message
