from __future__ import annotations

import pytest

from audit.checks.fairness.segmentation import ClusterBalance, ClusterDistributionTV, SegmentTreatmentRatio
from audit.core.types import Status

from .helpers import context, run, segmentation

BASE = "model:segments_test"


def test_cluster_balance_hand_computed():
    ctx = context([segmentation()])
    out = run(ClusterBalance, ctx)
    assert set(out) == {f"{BASE}/by:grp", f"{BASE}/by:g2"}
    grp, g2 = out[f"{BASE}/by:grp"], out[f"{BASE}/by:g2"]
    # B is 20% of segment 0 against 50% overall: r = 0.4 (and A in segment 1 likewise)
    assert grp.observed == pytest.approx(0.4)
    assert grp.status is Status.FAIL and grp.evidence["statistically_clear"] is True
    assert g2.observed == pytest.approx(1.0) and g2.status is Status.PASS
    over = grp.evidence["most_over_represented"]
    assert over["ratio"] == pytest.approx(1.6) and over["share_in_segment"] == pytest.approx(0.8)
    comp = ctx.report.segments["segments_test"]["composition"]
    assert comp["0"]["grp=A"] == pytest.approx(0.8) and comp["1"]["grp=B"] == pytest.approx(0.8)
    assert comp["0"]["g2=x"] == pytest.approx(0.5)


def test_total_variation_hand_computed():
    out = run(ClusterDistributionTV, context([segmentation()]))
    # A: (0.8, 0.2) over segments, B: (0.2, 0.8) -> TV = 0.5 * (0.6 + 0.6)
    assert out[f"{BASE}/by:grp"].observed == pytest.approx(0.6)
    assert out[f"{BASE}/by:grp"].status is Status.FAIL
    assert out[f"{BASE}/by:g2"].observed == pytest.approx(0.0)
    assert out[f"{BASE}/by:g2"].status is Status.PASS


def test_small_segments_are_shown_not_judged():
    ctx = context([segmentation(noise=6)])
    o = run(ClusterBalance, ctx)[f"{BASE}/by:grp"]
    assert o.evidence["small_segments"] == {"noise": 6}
    assert "not judged: noise (n=6)" in o.message
    assert o.observed == pytest.approx(0.4)
    assert "noise" in ctx.report.segments["segments_test"]["composition"]


def test_treatment_ratio():
    art = segmentation(treatment={0: "gold offer", 1: "bronze offer"})
    ctx = context([art])
    out = run(SegmentTreatmentRatio, ctx, favourable_treatments=["gold offer"])
    o = out[f"{BASE}/by:grp"]
    # gold reaches 80% of A and 20% of B
    assert o.observed == pytest.approx(0.25)
    assert o.status is Status.FAIL and o.evidence["worst_group"] == "B"
    assert out[f"{BASE}/by:g2"].status is Status.PASS
    reach = run(SegmentTreatmentRatio, ctx)[f"{BASE}/by:grp"]
    assert reach.observed == pytest.approx(0.25)
    assert reach.evidence["mode"] == "reach"
    graded = run(SegmentTreatmentRatio, ctx, treatment_values={"gold offer": 1.0, "bronze offer": 0.5})[f"{BASE}/by:grp"]
    # A: 0.8 * 1 + 0.2 * 0.5 = 0.9; B: 0.2 + 0.4 = 0.6
    assert graded.observed == pytest.approx(0.6 / 0.9)


def test_treatment_ratio_skips_without_treatment():
    out = run(SegmentTreatmentRatio, context([segmentation()]))
    assert list(out) == [BASE]
    assert out[BASE].status is Status.SKIPPED and "no treatment" in out[BASE].message
