from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit.checks.fairness.recommender import (
    ExposureParity,
    NonPersonalisedOption,
    PopularityBias,
    PriceDifferential,
    UserQualityGap,
)
from audit.core.types import Status

from .helpers import context, recommender, run

BASE = "model:recs_test"
DISC2 = 1 / math.log2(3)  # position weight of rank 2


def test_price_differential_hand_computed():
    out = run(PriceDifferential, context([recommender()]))
    ratio = out[f"{BASE}/by:gender"]
    # women: (20 + 100) / 2 = 60, men: (10 + 50) / 2 = 30
    assert ratio.observed == pytest.approx(0.5)
    assert ratio.status is Status.FAIL and ratio.evidence["worst_group"] == "F"
    within = out[f"{BASE}/by:gender/within:category"]
    # within-category differences 10 (A) and 50 (B), equal weights -> 30, over a mean slot price of 45
    assert within.observed == pytest.approx(30 / 45)
    assert within.status is Status.FAIL and within.evidence["worst_group"] == "F"
    assert within.evidence["gap_in_price_units"] == pytest.approx(30)
    assert within.evidence["p_value"] == pytest.approx(1 / 200)
    assert out[f"{BASE}/by:age_band"].observed == pytest.approx(1.0)
    assert out[f"{BASE}/by:age_band"].status is Status.PASS
    assert out[f"{BASE}/by:age_band/within:category"].status is Status.PASS


def test_user_quality_gap_hand_computed():
    out = run(UserQualityGap, context([recommender()]))
    o = out[f"{BASE}/by:gender"]
    # women: the one liked item at rank 1 (NDCG 1); men: one of two liked items at rank 1
    men = 1.0 / (1.0 + DISC2)
    assert o.observed == pytest.approx(men)
    assert o.status is Status.FAIL and o.evidence["worst_group"] == "M"
    assert o.evidence["ratios"]["precision_at_k"] == pytest.approx(1.0)
    assert o.evidence["ratios"]["recall_at_k"] == pytest.approx(0.5)
    groups = {r["group"]: r["value"] for r in o.evidence["by_group"]}
    assert groups == pytest.approx({"F": 1.0, "M": men})
    assert out[f"{BASE}/by:age_band"].status is Status.PASS
    prec = run(UserQualityGap, context([recommender()]), metric="precision_at_k")[f"{BASE}/by:gender"]
    assert prec.observed == pytest.approx(1.0) and prec.status is Status.PASS


def test_exposure_parity_hand_computed():
    ctx = context([recommender()])
    out = run(ExposureParity, ctx)
    prov = out[f"{BASE}/items_by:provider"]
    # P1 and P2 share the exposure, P3 (relevant to every man) is never shown
    assert prov.observed == pytest.approx(0.0)
    assert prov.status is Status.FAIL and prov.evidence["worst_group"] == "P3"
    rows = {r["group"]: r for r in prov.evidence["by_group"]}
    assert rows["P1"]["value"] == pytest.approx(1.5)
    assert rows["P1"]["exposure_share"] == pytest.approx(0.5)
    assert rows["P1"]["relevance_share"] == pytest.approx(1 / 3)
    cat = out[f"{BASE}/items_by:category"]
    rows = {r["group"]: r for r in cat.evidence["by_group"]}
    assert rows["B"]["eligible"] is False  # no relevance: ratio undefined
    assert rows["A"]["value"] == pytest.approx((60 / (60 + 60 * DISC2)) / (60 / 90))
    extras = ctx.report.exposure["recs_test"]
    assert extras["P1"]["exposure_share"] == pytest.approx(0.5)
    assert extras["P3"]["relevance_share"] == pytest.approx(1 / 3)


def test_popularity_bias_hand_computed():
    out = run(PopularityBias, context([recommender()]))
    exposure = np.array([30, 30 * DISC2, 30, 30 * DISC2, 0.0])
    mad = np.abs(exposure[:, None] - exposure[None, :]).sum()
    gini = mad / (2 * len(exposure) ** 2 * exposure.mean())
    assert out[f"{BASE}/metric:exposure_gini"].observed == pytest.approx(gini)
    assert out[f"{BASE}/metric:exposure_gini"].status is Status.PASS
    assert out[f"{BASE}/metric:catalogue_coverage"].observed == pytest.approx(0.8)
    strict = run(PopularityBias, context([recommender()]), max_gini=0.1, min_coverage=0.9)
    assert {o.status for o in strict.values()} == {Status.FAIL}


def _consent(opted_out: list[str], extra: list[str] = ()) -> pd.DataFrame:
    users = [f"u{j:02d}" for j in range(60)] + list(extra)
    return pd.DataFrame({"customer_id": users, "consent_profiling": [u not in opted_out for u in users]})


def test_opted_out_users_served_personalised_lists_fail():
    ctx = context([recommender()], frame=_consent(["u00", "u01"]))
    o = run(NonPersonalisedOption, ctx)[BASE]
    assert o.status is Status.FAIL and o.observed == 0.0
    assert o.evidence["served_personalised"] == 2
    assert set(o.evidence["example_user_ids"]) == {"u00", "u01"}
    # a man's list (a_cheap, b_cheap) happens to be the catalogue's two most popular items
    ctx = context([recommender()], frame=_consent(["u00", "u31"]))
    o = run(NonPersonalisedOption, ctx)[BASE]
    assert o.observed == 0.5 and o.evidence["example_user_ids"] == ["u00"]


def test_opted_out_users_on_the_popularity_list_pass():
    art = recommender(opted_out_lists={"z1": ["b_cheap", "a_cheap"]})
    ctx = context([art], frame=_consent(["z1"], extra=["z1"]))
    o = run(NonPersonalisedOption, ctx)[BASE]
    assert o.status is Status.PASS and o.observed == 1.0
    art = recommender(opted_out_lists={"z1": ["a_pricey", "b_pricey"], "z2": ["c_other", "a_cheap"]})
    ctx = context([art], frame=_consent(["z1", "z2"], extra=["z1", "z2"]))
    o = run(NonPersonalisedOption, ctx)[BASE]
    assert o.status is Status.FAIL and o.evidence["served_personalised"] == 2
    # one editorial list served to every opted-out user (five or more) is not personalised
    same = {f"z{j}": ["c_other", "a_pricey"] for j in range(5)}
    ctx = context([recommender(opted_out_lists=same)], frame=_consent(list(same), extra=list(same)))
    assert run(NonPersonalisedOption, ctx)[BASE].status is Status.PASS


def test_opted_out_users_not_served_pass_and_missing_consent_skips():
    art = recommender()
    art.test_ratings = pd.concat([art.test_ratings, pd.DataFrame({"user_id": ["z9"], "item_id": ["a_cheap"], "rating": [5]})])
    ctx = context([art], frame=_consent(["z9"], extra=["z9"]))
    o = run(NonPersonalisedOption, ctx)[BASE]
    assert o.status is Status.PASS and o.evidence["not_served"] == 1
    out = run(NonPersonalisedOption, context([recommender()]))
    assert out[BASE].status is Status.SKIPPED
