from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.crm.preprocess import CRMPreprocessor, coerce_binary, coerce_numeric_text

TELCO = Path(__file__).resolve().parents[1] / "data" / "telco_sample.csv"
BINARY = ["Partner", "Dependents", "PhoneService", "PaperlessBilling"]


@pytest.fixture()
def telco() -> pd.DataFrame:
    return pd.read_csv(TELCO)


def test_sample_is_shaped_like_the_public_table(telco: pd.DataFrame) -> None:
    assert {"customerID", "TotalCharges", "MonthlyCharges", "tenure", "Churn"} <= set(telco.columns)
    assert not pd.api.types.is_numeric_dtype(telco["TotalCharges"])  # numbers stored as text
    assert (telco["TotalCharges"].astype(str).str.strip() == "").sum() == 3


def test_coercion_helpers() -> None:
    assert coerce_numeric_text(pd.Series(["1.5", " ", "", "2"])).tolist()[::3] == [1.5, 2.0]
    assert coerce_numeric_text(pd.Series([" "])).isna().all()
    assert coerce_binary(pd.Series(["Yes", "no", "TRUE", "maybe"])).tolist()[:3] == [1.0, 0.0, 1.0]
    assert np.isnan(coerce_binary(pd.Series(["maybe"]))[0])


def test_telco_clean_fit_transform(telco: pd.DataFrame) -> None:
    prep = CRMPreprocessor(id_column="customerID", deduplicate=True, binary=BINARY)
    clean = prep.clean(telco, target="Churn")
    # independent reference for the row-level cleaning
    expected = telco.drop_duplicates(subset=["customerID"])
    expected = expected[expected["Churn"].notna()]
    assert len(clean) == len(expected) == 47
    assert set(clean["Churn"].unique()) == {0.0, 1.0}
    assert clean["Churn"].sum() == (expected["Churn"] == "Yes").sum()

    X, y = clean.drop(columns=["Churn"]), clean["Churn"]
    Z = prep.fit_transform(X, y)
    report = prep.report_
    assert report["duplicates_removed"] == 2
    assert report["rows_dropped"] == 1
    assert report["rows_in"] == 50 and report["rows_out"] == 47
    assert "TotalCharges" in report["columns_cast"]
    assert report["values_imputed"]["TotalCharges"] == 3
    assert report["values_imputed"]["tenure"] == 0

    # the id never becomes a feature; binary columns become numeric
    assert "customerID" not in prep.output_to_feature_.values()
    assert set(BINARY) <= set(prep.numeric_features_)
    names = prep.feature_names_out
    assert Z.shape == (47, len(names))
    assert prep.output_to_feature_["Contract_Two year"] == "Contract"
    assert set(prep.output_to_feature_.values()) == set(prep.numeric_features_) | set(prep.categorical_features_)

    # median imputation and standardisation, checked against pandas
    raw = expected["TotalCharges"].astype(str).str.strip().replace("", np.nan)
    total = pd.to_numeric(raw).reset_index(drop=True)
    median = total.median()
    assert prep.imputation_values_["TotalCharges"] == pytest.approx(median)
    filled = total.fillna(median)
    assert prep.scaler_mean_["TotalCharges"] == pytest.approx(filled.mean())
    assert prep.scaler_scale_["TotalCharges"] == pytest.approx(filled.std(ddof=0))
    col = names.index("TotalCharges")
    assert np.allclose(Z[:, col], (filled - filled.mean()) / filled.std(ddof=0))
    assert prep.to_original_units("TotalCharges", Z[0, col]) == pytest.approx(filled.iloc[0])
    # one-hot block of a categorical sums to one per row
    contract = [j for j, n in enumerate(names) if prep.output_to_feature_[n] == "Contract"]
    assert np.allclose(Z[:, contract].sum(axis=1), 1.0)


def test_most_frequent_imputation_and_unknown_categories() -> None:
    frame = pd.DataFrame({"plan": ["a", "a", "b", None], "spend": ["1", "2", " ", "4"]})
    prep = CRMPreprocessor(scale=False).fit(frame)
    assert prep.imputation_values_["plan"] == "a"
    assert prep.report_["values_imputed"] == {"spend": 1, "plan": 1}
    out = prep.transform(pd.DataFrame({"plan": ["zzz"], "spend": ["3"]}))
    names = prep.feature_names_out
    assert out[0, names.index("spend")] == 3.0
    assert out[0, [names.index("plan_a"), names.index("plan_b")]].sum() == 0.0  # unseen category


def test_works_inside_a_pipeline(telco: pd.DataFrame) -> None:
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    prep = CRMPreprocessor(id_column="customerID", binary=BINARY)
    clean = prep.clean(telco, target="Churn")
    pipe = Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=500))])
    pipe.fit(clean.drop(columns=["Churn"]), clean["Churn"])
    proba = clone(pipe).fit(clean.drop(columns=["Churn"]), clean["Churn"]).predict_proba(clean.drop(columns=["Churn"]))
    assert proba.shape == (len(clean), 2)
