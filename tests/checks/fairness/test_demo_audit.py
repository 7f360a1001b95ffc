"""The fairness checks on the built-in demo CRM: every planted bias is found, nothing else clearly fails."""

from __future__ import annotations

import re
import time

import pytest

from audit.checks import load_builtin_checks
from audit.core.types import Severity, Status
from audit.crm.demo import PLANTED
from audit.demo import demo_context
from audit.policy.loader import load_policies
from audit.runner import build_result

load_builtin_checks()

PREFIXES = ("fairness.", "perf.", "rec.", "proxy.", "nlp.counterfactual_")
CHURN = ("churn_logistic_regression", "churn_random_forest", "churn_svc", "churn_mlp")
CLASSIFIER_CHECKS = {
    "fairness.selection_rate_impact_ratio",
    "fairness.demographic_parity_difference",
    "fairness.equalized_odds_difference",
    "fairness.equal_opportunity_difference",
    "fairness.calibration_by_group",
    "fairness.intersectional",
    "perf.by_group",
}

# Failures that follow from a planted problem: (check id pattern, subject pattern, planted id).
PLANTED_RULES = [
    (r"fairness\.|perf\.", r"model:churn_\w+/by:(age_band|gender×age_band)(/|$)", "churn_age_disparity"),
    (r"proxy\.", r"model:(churn_\w+|customer_value_gbm)/by:age_band$", "proxy_region_age"),
    (r"fairness\.(cluster_balance|cluster_dist_tv|segment_treatment_ratio)", r"model:segments_kmeans/by:age_band$", "segment_age_concentration"),
    (r"fairness\.price_differential", r"model:recommender_\w+/by:gender(/|$)", "recommender_gender_price"),
    (r"nlp\.counterfactual_", r"model:sentiment_lr/swap:gender$", "sentiment_identity_flip"),
]
# Clear failures that are real properties of the demo recommenders, not planted: exposure is
# concentrated on a few items, so item groups' exposure is far from their share of relevance.
KNOWN_UNPLANNED = [(r"fairness\.exposure_parity", r"model:recommender_\w+/items_by:(provider|category)$")]


@pytest.fixture(scope="module")
def audit():
    t0 = time.perf_counter()
    ctx, _ = demo_context(n_customers=3000, seed=7)
    policy = load_policies(["default"])
    policy.checks = {k: v for k, v in policy.checks.items() if k.startswith(PREFIXES)}
    result = build_result(ctx, policy, fail_on=Severity.HIGH)
    findings = {(f.check_id, f.subject): f for f in result.findings}
    return ctx, findings, time.perf_counter() - t0


def _get(findings, check_id, subject):
    assert (check_id, subject) in findings, f"no finding {check_id} {subject}"
    return findings[(check_id, subject)]


def test_all_checks_ran_without_errors(audit):
    _, findings, _ = audit
    errors = [f"{c} {s}: {f.message}" for (c, s), f in findings.items() if f.status is Status.ERROR]
    assert not errors
    ran = {c for c, _ in findings}
    assert len(ran) == 19


def test_churn_age_impact_ratio_fails_for_the_young_not_gender(audit):
    assert "churn_age_disparity" in PLANTED
    _, findings, _ = audit
    for model in CHURN:
        age = _get(findings, "fairness.selection_rate_impact_ratio", f"model:{model}/by:age_band")
        assert age.status is Status.FAIL and age.evidence["worst_group"] == "18-29"
        assert age.evidence["statistically_clear"] is True and age.observed < 0.8
        gender = _get(findings, "fairness.selection_rate_impact_ratio", f"model:{model}/by:gender")
        assert gender.status is Status.PASS and gender.observed > 0.8


def test_segment_age_concentration(audit):
    _, findings, _ = audit
    age = _get(findings, "fairness.cluster_balance", "model:segments_kmeans/by:age_band")
    assert age.status is Status.FAIL and age.evidence["most_over_represented"]["group"] == "18-29"
    assert _get(findings, "fairness.cluster_balance", "model:segments_kmeans/by:gender").status is Status.PASS


def test_recommender_gender_price(audit):
    _, findings, _ = audit
    for model in ("recommender_knn_means", "recommender_hybrid"):
        raw = _get(findings, "fairness.price_differential", f"model:{model}/by:gender")
        within = _get(findings, "fairness.price_differential", f"model:{model}/by:gender/within:category")
        for f in (raw, within):
            assert f.status is Status.FAIL and f.evidence["worst_group"] == "F" and f.evidence["statistically_clear"] is True


def test_sentiment_identity_flip(audit):
    _, findings, _ = audit
    flip = _get(findings, "nlp.counterfactual_flip_rate", "model:sentiment_lr/swap:gender")
    assert flip.status is Status.FAIL and flip.evidence["statistically_clear"] is True
    assert _get(findings, "nlp.counterfactual_score_gap", "model:sentiment_lr/swap:gender").status is Status.FAIL


def test_region_is_a_proxy_of_age_band(audit):
    ctx, findings, _ = audit
    for model in CHURN:
        f = _get(findings, "proxy.association", f"model:{model}/by:age_band")
        assert f.status is Status.FAIL and f.evidence["strongest_feature"] == "region" and f.observed > 0.5
        assert "region" in ctx.facts.flagged_proxies[model]
        assert _get(findings, "proxy.association", f"model:{model}/by:gender").status is Status.PASS
        assert _get(findings, "proxy.redundant_encoding", f"model:{model}/by:age_band").status is Status.FAIL


def test_opted_out_customers_get_no_personalised_lists(audit):
    _, findings, _ = audit
    for model in ("recommender_knn_means", "recommender_content", "recommender_hybrid"):
        f = _get(findings, "rec.non_personalised_option", f"model:{model}")
        assert f.status is Status.PASS and f.evidence["opted_out_users"] > 0 and f.evidence["served_personalised"] == 0


def test_report_extras(audit):
    ctx, _, _ = audit
    extras = ctx.report.to_dict()
    comp = extras["segments"]["segments_kmeans"]["composition"]
    assert len(comp) >= 2 and all(abs(sum(v for g, v in shares.items() if g.startswith("gender=")) - 1) < 1e-9 for shares in comp.values())
    for model in ("recommender_knn_means", "recommender_content", "recommender_hybrid"):
        exp = extras["exposure"][model]
        assert abs(sum(v["exposure_share"] for v in exp.values()) - 1) < 1e-9


def _matches(rules, check_id, subject):
    return any(re.match(c, check_id) and re.search(s, subject) for c, s, *_ in rules)


def test_nothing_unplanned_fails_clearly(audit):
    _, findings, _ = audit
    unexplained = []
    for (check_id, subject), f in findings.items():
        if f.status is not Status.FAIL:
            continue
        if _matches(PLANTED_RULES, check_id, subject) or _matches(KNOWN_UNPLANNED, check_id, subject):
            continue
        # anything else may only fail within noise (small groups at this demo size)
        if f.evidence.get("statistically_clear"):
            unexplained.append(f"{check_id} {subject}: {f.message}")
    assert not unexplained, "\n".join(unexplained)


def test_runtime_recorded(audit):
    *_, seconds = audit
    print(f"demo context (3000 customers) + fairness checks: {seconds:.1f} s")
    assert seconds < 600
