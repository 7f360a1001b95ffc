from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from audit.checks.explain.checks import ReasonCodes
from audit.checks.fairness.classifier import SelectionRateImpactRatio
from audit.checks.fairness.proxy import ProxyAssociation, ProxyRedundantEncoding
from audit.core.check import REGISTRY
from audit.core.types import Severity, Status
from audit.crm.artifacts import ClassifierArtifact
from audit.policy.loader import ResolvedCheck, ResolvedPolicy
from audit.runner import run_checks

from .helpers import age_labels, context, run

BASE = "model:churn_proxy"
REGIONS = np.array(["Uni", "Metro", "Suburb", "Coast"], dtype=object)


def _artifact() -> ClassifierArtifact:
    rng = np.random.default_rng(5)
    n = 400
    band = np.repeat([0, 1, 2, 3], n // 4)
    age = np.array([22, 37, 50, 70])[band]
    region = np.where(rng.random(n) < 0.8, REGIONS[band], REGIONS[rng.integers(0, 4, n)])
    gender = rng.choice(["F", "M"], n)
    X = pd.DataFrame(
        {
            "region": region,
            "noise": rng.normal(size=n),
            "email": [f"user{j}@example.com" for j in range(n)],
            "age": age,
        }
    )
    y = rng.integers(0, 2, n)
    return ClassifierArtifact(
        name="churn_proxy",
        algorithm="logistic_regression",
        purpose="test",
        dataset="customers",
        features=["region", "noise", "email", "age"],
        estimator=None,
        sensitive=pd.DataFrame({"gender": gender, "age": age}),
        X_eval=X,
        y_true=y,
        y_pred=y,
        y_score=np.full(n, 0.5),
        favourable_outcome="negative",
    )


def _bias_corrected_v(x, y) -> float:
    table = pd.crosstab(pd.Series(x), pd.Series(y)).to_numpy()
    n = table.sum()
    chi2 = chi2_contingency(table, correction=False)[0]
    r, k = table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / min(rc - 1, kc - 1))


def test_association_flags_region_for_age():
    art = _artifact()
    ctx = context([art])
    out = run(ProxyAssociation, ctx)
    age, gender = out[f"{BASE}/by:age"], out[f"{BASE}/by:gender"]
    expected = _bias_corrected_v(art.X_eval["region"], age_labels(pd.Series(art.sensitive["age"], dtype=float)))
    assert age.observed == pytest.approx(expected)
    assert age.status is Status.FAIL and age.severity is None  # the policy's (default: high) severity applies
    assert age.evidence["flagged_features"] == ["region"]
    assert age.evidence["statistically_clear"] is True
    left = age.evidence["features_left_out"]
    assert "identifier-like" in left["email"] and "protected attribute" in left["age"]
    assert gender.status is Status.PASS
    assert ctx.facts.flagged_proxies == {"churn_proxy": {"region"}}


def test_moderate_association_is_medium_severity():
    art = _artifact()
    rng = np.random.default_rng(9)
    keep = rng.random(len(art.X_eval)) < 0.45
    art.X_eval["region"] = np.where(keep, art.X_eval["region"], REGIONS[rng.integers(0, 4, len(keep))])
    o = run(ProxyAssociation, context([art]))[f"{BASE}/by:age"]
    assert 0.3 <= o.observed < 0.5
    assert o.status is Status.FAIL and o.severity is Severity.MEDIUM


def test_redundant_encoding():
    out = run(ProxyRedundantEncoding, context([_artifact()]))
    age, gender = out[f"{BASE}/by:age"], out[f"{BASE}/by:gender"]
    assert age.status is Status.FAIL and age.observed >= 0.7
    assert gender.status is Status.PASS and abs(gender.observed - 0.5) < 0.15
    assert age.evidence["features"] == ["region", "noise"]


def test_proxies_run_before_the_checks_reading_them():
    for cid in ("proxy.association", "proxy.redundant_encoding"):
        assert REGISTRY.get(cid).meta.provides == ("flagged_proxies",)
    assert "flagged_proxies" in ReasonCodes.meta.requires
    checks = {}
    for cls in (ReasonCodes, SelectionRateImpactRatio, ProxyAssociation):
        m = cls.meta
        checks[m.id] = ResolvedCheck(id=m.id, params=cls.Params(), severity=m.severity, provenance=m.provenance, regulations=m.regulations, subjects=None, source="test")
    policy = ResolvedPolicy(packs=[], checks=checks, waivers=[], attestations={})
    _, _, timings = run_checks(context([_artifact()]), policy)
    assert list(timings) == ["fairness.selection_rate_impact_ratio", "proxy.association", "explain.reason_codes"]


def test_small_groups_are_measured_not_judged():
    art = _artifact()
    keep = np.r_[0:20, 100:120]  # 20 customers in each of two age bands
    art.X_eval = art.X_eval.iloc[keep].reset_index(drop=True)
    art.sensitive = art.sensitive.iloc[keep].reset_index(drop=True)
    ctx = context([art])
    o = run(ProxyAssociation, ctx)[f"{BASE}/by:age"]
    assert o.status is Status.SKIPPED and "measured but not judged" in o.message and o.observed is not None
    assert ctx.facts.flagged_proxies["churn_proxy"] == set()


def test_numbers_stored_as_text_are_assessed_as_numbers():
    art = _artifact()
    art.X_eval["noise"] = [f"{v:.3f}" if j % 50 else " " for j, v in enumerate(art.X_eval["noise"])]
    o = run(ProxyAssociation, context([art]))[f"{BASE}/by:age"]
    assert "noise" not in o.evidence["features_left_out"]
    assert {r["feature"] for r in o.evidence["by_feature"]} == {"region", "noise"}


def _policy(**params):
    m = ProxyAssociation.meta
    rc = ResolvedCheck(id=m.id, params=ProxyAssociation.Params(**params), severity=m.severity, provenance=m.provenance, regulations=m.regulations, subjects=None, source="test")
    return ResolvedPolicy(packs=[], checks={m.id: rc}, waivers=[], attestations={})


def test_explain_excludes_the_proxies_the_policy_flags():
    from audit.checks.explain.checks import excluded_features
    from audit.explain_cli import measure_exclusions

    ctx = context([_artifact()])
    assert measure_exclusions(ctx, _policy()) == ["proxy.association"]
    assert "region" in excluded_features(ctx, ctx.models[0])[1]
    strict = context([_artifact()])
    measure_exclusions(strict, _policy(flag_at=0.99))  # the policy's threshold, not a constant of its own
    assert excluded_features(strict, strict.models[0])[1] == set()


def test_explain_stops_when_a_proxy_check_fails(monkeypatch):
    from audit.explain_cli import ExplainError, measure_exclusions

    def boom(*_a, **_k):
        raise RuntimeError("no memory")

    monkeypatch.setattr(ProxyAssociation, "measure", boom)
    with pytest.raises(ExplainError, match="proxy.association on model:churn_proxy.*RuntimeError: no memory"):
        measure_exclusions(context([_artifact()]), _policy())
