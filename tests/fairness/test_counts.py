"""Count tables merged over chunks give the figures of the whole data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.fairness import (
    calibration_by_group,
    calibration_gap,
    classification_fairness,
    cluster_balance,
    cluster_table,
    confusion_by_group,
    disparities_from_counts,
    make_groups,
    total_variation_distance,
)
from audit.fairness.counts import (
    CountTable,
    calibration_from_table,
    classifier_cells,
    cluster_cells,
    merge_tables,
    missingness_cells,
    missingness_from_table,
)

BANDS = {"age": [18, 30, 45, 60, 121]}
METRICS = ("selection_rate_impact_ratio", "demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference", "equalized_odds_ratio")


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(np.array(["F", "M", "X"], dtype=object), size=n, p=[0.48, 0.48, 0.04])
    gender[rng.random(n) < 0.02] = None
    gender[rng.random(n) < 0.01] = "  "  # blank: unknown
    age = rng.integers(14, 95, n).astype(float)
    age[rng.random(n) < 0.03] = np.nan
    score = rng.beta(2, 3, n)
    y_true = (rng.random(n) < score * 0.9).astype(int)
    y_pred = (score > 0.45).astype(int)
    cluster = rng.integers(0, 5, n)
    income = np.where(rng.random(n) < 0.1, np.nan, rng.normal(50_000, 10_000, n))
    return pd.DataFrame({"gender": gender, "age": age, "y_true": y_true, "y_pred": y_pred, "score": score, "segment": cluster, "income": income})


def _chunks(df: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    edges = np.cumsum([0, *sizes])
    assert edges[-1] == len(df)
    return [df.iloc[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _frame(5000)


@pytest.mark.parametrize("attributes", [["gender"], ["age"], ["gender", "age"]])
def test_confusion_from_chunks_equals_rows(data: pd.DataFrame, attributes: list[str]) -> None:
    chunks = _chunks(data, [1, 999, 1500, 2500])
    table = merge_tables(classifier_cells(c, attributes=attributes, y_true="y_true", y_pred="y_pred", bands=BANDS) for c in chunks)
    assert table.n_rows == len(data)
    got = table.confusion(attributes, bands=BANDS)
    groups = make_groups(data, attributes=attributes, bands=BANDS)
    want = confusion_by_group(data["y_true"], data["y_pred"], groups=groups)
    assert got.groups == want.groups
    np.testing.assert_array_equal(got.counts, want.counts)
    # the whole figure set, bootstrap included, is identical: same counts, same draws
    a = disparities_from_counts(got, metrics=METRICS, n_boot=200, seed=3)
    b = classification_fairness(data["y_true"], data["y_pred"], groups=groups, metrics=METRICS, n_boot=200, seed=3)
    for m in METRICS:
        assert a[m].to_dict() == b[m].to_dict()


def test_chunking_does_not_matter(data: pd.DataFrame) -> None:
    one = classifier_cells(data, attributes=["gender", "age"], y_true="y_true", y_pred="y_pred", bands=BANDS)
    many = merge_tables(classifier_cells(c, attributes=["gender", "age"], y_true="y_true", y_pred="y_pred", bands=BANDS) for c in _chunks(data, [700] * 7 + [100]))
    a = one.frame.sort_values(list(one.keys), na_position="last").reset_index(drop=True)
    b = many.frame.sort_values(list(many.keys), na_position="last").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_banded_cells_stay_small(data: pd.DataFrame) -> None:
    t = classifier_cells(data, attributes=["age"], y_true="y_true", y_pred="y_pred", bands=BANDS)
    assert len(t.frame) <= 7 * 4  # 4 bands + below + above + unknown, times 4 confusion cells


def test_calibration_from_chunks(data: pd.DataFrame) -> None:
    attrs = ["gender", "age"]
    table = merge_tables(classifier_cells(c, attributes=attrs, y_true="y_true", y_pred="y_pred", y_score="score", bands=BANDS) for c in _chunks(data, [2000, 3000]))
    got = calibration_from_table(table, attrs, bands=BANDS)
    want = calibration_by_group(data["y_true"], data["score"], groups=make_groups(data, attributes=attrs, bands=BANDS))
    assert list(got["group"]) == list(want["group"])
    np.testing.assert_array_equal(got["n"], want["n"])
    np.testing.assert_allclose(got["ece"], want["ece"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["brier"], want["brier"], rtol=0, atol=1e-12)
    # and the gap figure itself
    gap = calibration_gap(data["y_true"], data["score"], groups=make_groups(data, attributes=attrs, bands=BANDS), n_boot=0)
    eligible = got["n"].to_numpy() >= 30
    assert abs((got["ece"][eligible].max() - got["ece"][eligible].min()) - gap["ece_difference"].value) < 1e-12


def test_cluster_balance_from_chunks(data: pd.DataFrame) -> None:
    table = merge_tables(cluster_cells(c, attributes=["gender"], cluster="segment") for c in _chunks(data, [1234, 3766]))
    got = table.clusters(["gender"])
    groups = make_groups(data, attributes=["gender"])
    want = cluster_table(data["segment"], groups=groups)
    assert got.groups == want.groups and got.clusters == want.clusters
    np.testing.assert_array_equal(got.counts, want.counts)
    a = cluster_balance(data["segment"], groups=groups, n_boot=100, seed=1)
    # the figure from the counted table: rebuild row-level labels from the cells and compare
    rows_g = np.repeat(np.arange(len(got.groups)), got.counts.sum(axis=1))
    rows_c = np.concatenate([np.repeat(np.arange(len(got.clusters)), r) for r in got.counts])
    b = cluster_balance(np.asarray(got.clusters, dtype=object)[rows_c], groups=np.asarray(got.groups, dtype=object)[rows_g], n_boot=100, seed=1)
    assert a.value == pytest.approx(b.value, abs=1e-12)
    tv = total_variation_distance(data["segment"], groups=groups, n_boot=0)
    assert 0 <= tv.value <= 1


def test_missingness_from_chunks(data: pd.DataFrame) -> None:
    from audit.checks.data_quality.missingness import null_mask

    table = merge_tables(missingness_cells(c, attributes=["gender"]) for c in _chunks(data, [10, 4990]))
    overall = missingness_from_table(table)
    want = data.apply(null_mask).mean()
    for col in data.columns:
        assert overall.loc["all", col] == pytest.approx(float(want[col]), abs=1e-12)
    by = missingness_from_table(table, ["gender"])
    groups = make_groups(data, attributes=["gender"])
    labels = pd.Series(groups.labels)
    rates = data.apply(null_mask).reset_index(drop=True).groupby(labels).mean()
    for name in groups.names:
        assert by.loc[name, "income"] == pytest.approx(float(rates.loc[name, "income"]), abs=1e-12)


def test_merge_rejects_different_layouts(data: pd.DataFrame) -> None:
    a = classifier_cells(data, attributes=["gender"], y_true="y_true", y_pred="y_pred")
    b = classifier_cells(data, attributes=["age"], y_true="y_true", y_pred="y_pred", bands=BANDS)
    with pytest.raises(ValueError, match="different keys"):
        merge_tables([a, b])
    with pytest.raises(ValueError, match="no count tables"):
        merge_tables([])
    with pytest.raises(KeyError, match="not a key"):
        a.confusion(["age"])


def test_categorical_chunks_with_different_categories() -> None:
    a = pd.DataFrame({"g": pd.Categorical(["x", "y"]), "y_pred": [1, 0]})
    b = pd.DataFrame({"g": pd.Categorical(["z", None]), "y_pred": [1, 1]})
    t = CountTable.from_columns({"g": a["g"], "y_pred": a["y_pred"]}).merge(CountTable.from_columns({"g": b["g"], "y_pred": b["y_pred"]}))
    conf = t.confusion(["g"], y_true=None)
    assert conf.groups == ("g=x", "g=y", "g=z", "g=unknown")
    assert conf.counts[:, 1].tolist() == [1, 0, 1, 1]


@pytest.mark.slow
def test_one_million_rows_match_fairlearn() -> None:
    from fairlearn.metrics import MetricFrame, demographic_parity_difference, equalized_odds_difference, selection_rate, true_positive_rate

    df = _frame(1_000_000, seed=11)
    attrs = ["gender", "age"]
    table = merge_tables(classifier_cells(c, attributes=attrs, y_true="y_true", y_pred="y_pred", bands=BANDS) for c in _chunks(df, [250_000] * 4))
    groups = make_groups(df, attributes=attrs, bands=BANDS)
    res = disparities_from_counts(table.confusion(attrs, bands=BANDS), metrics=["demographic_parity_difference", "equalized_odds_difference"], min_group_size=0, undefined="zero", n_boot=0)
    labels = groups.labels
    assert res["demographic_parity_difference"].value == pytest.approx(demographic_parity_difference(df["y_true"], df["y_pred"], sensitive_features=labels), abs=1e-12)
    assert res["equalized_odds_difference"].value == pytest.approx(equalized_odds_difference(df["y_true"], df["y_pred"], sensitive_features=labels), abs=1e-12)
    mf = MetricFrame(metrics={"sr": selection_rate, "tpr": true_positive_rate}, y_true=df["y_true"], y_pred=df["y_pred"], sensitive_features=labels)
    by = res["demographic_parity_difference"].by_group.set_index("group")
    for name, row in mf.by_group.iterrows():
        assert by.loc[name, "selection_rate"] == pytest.approx(row["sr"], abs=1e-12)
