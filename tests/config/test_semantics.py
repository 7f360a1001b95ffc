"""Missing values, whitespace, labels and coded values on generated real-world-shaped files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.config.labels import positive_label
from audit.config.reading import show

from tests.checks.runcheck import findings
from .conftest import customers

CFG = """
datasets:
  crm:
    source: {{path: crm.csv{options}}}
    roles: {{id: customer_id, protected: [gender], target: churn}}
{extra}
models:
  - {{name: churn_lr, dataset: crm, algorithm: logistic_regression}}
"""


def cfg(extra: str = "", options: str = "") -> str:
    return CFG.format(extra=extra, options=f", options: {options}" if options else "")


def test_blank_and_question_mark_cells_are_missing(project):
    df = customers(100).astype({"monthly": str})
    df.loc[:9, "monthly"] = " "  # numbers-as-text with blanks
    df.loc[10:14, "monthly"] = "?"
    df.loc[15:17, "gender"] = " ? "
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg())
    ctx = project.load()
    ds = ctx.datasets["crm"]
    assert int(ds.frame["monthly"].isna().sum()) == 15 and int(ds.frame["gender"].isna().sum()) == 3
    assert ds.preprocessing["missing_cells"] == {"monthly": 15, "gender": 3}
    f = findings("dq.missingness", ctx)["dataset:crm"]
    assert f.observed == pytest.approx(0.15)
    assert f.evidence["null_rate_by_column"] == {"gender": 0.03, "monthly": 0.15}
    # the model imputed those 15 blanks, and the dataset record says so
    assert ds.preprocessing["imputed_by_model"]["churn_lr"]["monthly"] == pytest.approx(15 * 0.7, abs=6)


def test_custom_na_values_replace_the_default(project):
    df = customers(30)
    df.loc[:2, "gender"] = "?"
    df.loc[3:4, "gender"] = "unknown"
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg(options="{na_values: [unknown]}"))
    ds = project.load().datasets["crm"]
    assert int(ds.frame["gender"].isna().sum()) == 2 and (ds.frame["gender"] == "?").sum() == 3
    assert ds.reading["na_values"] == ["unknown"]


def test_null_mask_sees_pandas_string_dtype():
    from audit.checks.data_quality.missingness import null_mask

    s = pd.Series(["1.5", "", None, " "], dtype="string")
    assert null_mask(s).tolist() == [False, True, True, True]


def test_leading_spaces_stripped_and_recorded(project):
    df = customers(60)
    df["gender"] = " " + df["gender"]
    df["churn"] = " " + df["churn"]
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg())
    ctx = project.load()
    ds = ctx.datasets["crm"]
    assert set(ds.frame["gender"]) == {"Female", "Male"}
    assert ds.preprocessing["whitespace_stripped"] == {"gender": 60, "churn": 60}
    model = ctx.models[0]
    assert model.positive_label == "Yes"
    assert set(map(str, model.sensitive["gender"])) == {"Female", "Male"}


def test_one_two_labels_need_a_positive_label(project):
    df = customers(80)
    df["churn"] = np.where(df["churn"] == "Yes", 2, 1)  # credit-style coding: 1 = good, 2 = bad
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg())
    msg = project.error()
    assert "datasets.crm.positive_labels: which value of target 'churn' is the positive class?" in msg
    assert "Its values are 1 (n=" in msg and "2 (n=" in msg
    assert "np." not in msg
    project.config(cfg(extra="    positive_labels: ['2']"))
    model = project.load().models[0]
    assert model.positive_label == 2
    assert float(np.mean(model.y_true == 2)) == pytest.approx(float(np.mean(df["churn"] == 2)), abs=0.08)


def test_positive_label_absent_from_data(project):
    project.write("crm.csv", customers(40).to_csv(index=False))
    project.config(cfg(extra="    positive_labels: ['churned']"))
    msg = project.error()
    assert "positive label(s) 'churned' not found in target 'churn'; its values are 'No' (n=" in msg
    assert "hint: write the positive value exactly as it appears above" in msg


def test_four_label_values_are_refused_then_mapped(project):
    df = customers(120)
    y = np.where(df["churn"] == "Yes", " >50K", " <=50K").astype(object)
    y[::3] = y[::3] + "."  # the test half of the census file spells them ">50K."
    df["churn"] = y
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg(extra="    positive_labels: ['>50K']"))
    msg = project.error()
    counts = pd.Series(y).str.strip().value_counts()
    assert "datasets.crm.label_map: target 'churn' has 4 values, a classifier needs two:" in msg
    for value, n in counts.items():
        assert f"{value!r} (n={n})" in msg
    assert "label_map: {'<=50K.': '<=50K', '>50K.': '>50K'}" in msg
    project.config(cfg(extra="    positive_labels: ['>50K']\n    label_map: {'>50K.': '>50K', '<=50K.': '<=50K'}"))
    ctx = project.load()
    ds = ctx.datasets["crm"]
    assert set(ds.frame["churn"]) == {">50K", "<=50K"}
    assert ds.preprocessing["label_map"]["churn"] == {">50K.": int(counts[">50K."]), "<=50K.": int(counts["<=50K."])}
    assert ctx.models[0].positive_label == ">50K"


def test_yes_no_like_targets_need_no_declaration():
    assert positive_label(pd.Series(["No", "Yes", "No"]), []) == "Yes"
    assert positive_label(pd.Series([True, False]), []) is True
    assert positive_label(pd.Series([0, 1, 1]), []) == 1
    assert positive_label(pd.Series(["false", "TRUE"]), []) == "TRUE"


def test_one_valued_target_is_refused(project):
    df = customers(30)
    df["churn"] = "No"
    project.write("crm.csv", df.to_csv(index=False))
    project.config(cfg())
    assert "target 'churn' has one value, 'No': a classifier needs two classes" in project.error()


def test_value_labels_turn_codes_into_words(project):
    df = customers(90)
    df["personal_status"] = np.resize(["A91", "A92", "A93", "A94"], len(df))
    df["gender"] = np.resize([1, 2], len(df))
    project.write("crm.csv", df.to_csv(index=False))
    project.config(
        cfg(extra="    value_labels:\n      personal_status: {A91: 'male, divorced', A92: female, A93: 'male, single'}\n      gender: {1: male, 2: female}")
    )
    ctx = project.load()
    ds = ctx.datasets["crm"]
    assert ds.frame["personal_status"].value_counts().to_dict() == {"male, divorced": 23, "female": 23, "male, single": 22, "A94": 22}
    assert ds.preprocessing["value_labels"]["personal_status"] == {"cells_mapped": 68, "codes_without_label": ["A94"]}
    assert set(ds.frame["gender"]) == {"male", "female"}
    model = ctx.models[0]
    assert set(model.sensitive["gender"]) == {"male", "female"}
    groups = {r["group"] for f in findings("fairness.demographic_parity_difference", ctx).values() for r in f.evidence.get("by_group", [])}
    assert groups == {"male", "female"}


def test_value_labels_for_an_unknown_column(project):
    project.write("crm.csv", customers(10).to_csv(index=False))
    project.config(cfg(extra="    value_labels: {status: {A91: x}}"))
    assert "datasets.crm.value_labels: column 'status' named in the config is not in dataset 'crm'" in project.error()


def test_show_never_prints_numpy_reprs():
    assert show(np.int64(2)) == "2" and show(np.float64(2.0)) == "2" and show(" >50K") == "' >50K'"
    assert show(np.float64(float("nan"))) == "missing"
