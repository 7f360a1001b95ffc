"""Every model kind from every source it supports, built from audit.yaml on small generated data."""

from __future__ import annotations

import hashlib
import json

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from audit.cli import main
from audit.core.errors import AuditInputError
from audit.core.types import SubjectKind
from tests.checks.runcheck import findings

# --------------------------------------------------------------------------- regressor

REGRESSOR = """\
datasets:
  customers:
    source: {path: customers.csv}
    roles: {id: customer_id, protected: [gender], target: next_year_value}
models:
  - {name: value, kind: regressor, dataset: customers, features: [orders_last_year, avg_basket, tenure_months], SOURCE}
"""


def _regressor_tables(gen):
    return gen.regressor(n=300)


def test_regressor_train(build, gen):
    ctx = build(REGRESSOR.replace("SOURCE", "source: train, algorithm: ridge"), _regressor_tables(gen))
    art = ctx.model("value")
    assert art.kind == "regressor" and art.algorithm == "ridge" and art.source == "train"
    assert len(art.y_pred) == 90 and art.metrics["r2"] > 0.5


@pytest.mark.parametrize("source", ["skops", "pickle"])
def test_loaded_regressor_is_the_declared_file_not_a_retrained_copy(build, gen, tmp_path, source):
    tables = _regressor_tables(gen)
    X = tables["customers"][["orders_last_year", "avg_basket", "tenure_months"]]
    # fitted on a DIFFERENT target: a retrained model could never reproduce these predictions
    est = LinearRegression().fit(X, 3.0 * X["tenure_months"] + 7.0)
    if source == "skops":
        sio.dump(est, tmp_path / "value.model")
    else:
        joblib.dump(est, tmp_path / "value.model")
    ctx = build(REGRESSOR.replace("SOURCE", f"source: {source}, path: value.model"), tables, trust_pickle=True)
    art = ctx.model("value")
    assert art.estimator is not est and type(art.estimator) is LinearRegression
    np.testing.assert_allclose(art.estimator.coef_, est.coef_)
    np.testing.assert_allclose(art.y_pred, 3.0 * art.X_eval["tenure_months"].to_numpy() + 7.0)
    assert art.algorithm == "LinearRegression" and art.training_rows == 0
    assert "not a retrained copy" in art.notes[0]


def test_pickled_regressor_needs_the_flag(build, gen, tmp_path):
    tables = _regressor_tables(gen)
    joblib.dump(LinearRegression().fit([[0, 0, 0], [1, 1, 1]], [0, 1]), tmp_path / "value.pkl")
    with pytest.raises(AuditInputError, match="refusing to load value.pkl with pickle"):
        build(REGRESSOR.replace("SOURCE", "source: pickle, path: value.pkl"), tables)


def test_regressor_predictions(build, gen, tmp_path):
    tables = _regressor_tables(gen)
    df = tables["customers"]
    pd.DataFrame({"id": df["customer_id"], "y_true": df["next_year_value"], "y_pred": df["next_year_value"] + 10}).to_csv(tmp_path / "preds.csv", index=False)
    ctx = build(REGRESSOR.replace("SOURCE", "source: predictions, path: preds.csv"), tables)
    art = ctx.model("value")
    assert art.estimator is None and len(art.y_pred) == 300
    assert art.metrics["rmse"] == pytest.approx(10.0)
    assert list(art.sensitive.columns) == ["gender"]


def test_regressor_predictions_with_repeated_ids_are_refused(build, gen, tmp_path):
    tables = _regressor_tables(gen)
    df = tables["customers"]
    ids = df["customer_id"].tolist()
    ids[5] = ids[4]
    pd.DataFrame({"id": ids, "y_true": 1.0, "y_pred": 1.0}).to_csv(tmp_path / "preds.csv", index=False)
    with pytest.raises(AuditInputError, match=r"1 id\(s\) appear more than once \(2 rows, lines 6, 7\)"):
        build(REGRESSOR.replace("SOURCE", "source: predictions, path: preds.csv"), tables)


# --------------------------------------------------------------------------- classifier

CLASSIFIER = """\
datasets:
  applicants:
    source: {path: applicants.csv}
    roles: {id: customer_id, protected: [gender], target: approved}
    positive_labels: ["yes"]
models:
  - {name: approval, kind: classifier, dataset: applicants, features: [income, tenure_months, late_payments, region], adverse_outcome: negative, SOURCE}
"""


def _classifier_pipeline(X, y):
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])], remainder="passthrough")
    return Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=500))]).fit(X, y)


@pytest.mark.parametrize("source", ["train", "skops", "pickle", "predictions"])
def test_classifier_every_source(build, gen, tmp_path, source):
    tables = gen.classifier(n=400)
    df = tables["applicants"]
    feats = ["income", "tenure_months", "late_payments", "region"]
    spec = "source: train"
    if source in ("skops", "pickle"):
        est = _classifier_pipeline(df[feats], (df["approved"] == "yes").astype(int))
        if source == "skops":
            sio.dump(est, tmp_path / "m.skops")
            untrusted = sio.get_untrusted_types(file=tmp_path / "m.skops")
            spec = f"source: skops, path: m.skops, trusted_types: {json.dumps(untrusted)}"
        else:
            joblib.dump(est, tmp_path / "m.pkl")
            spec = "source: pickle, path: m.pkl"
    elif source == "predictions":
        pd.DataFrame({"id": df["customer_id"], "y_true": df["approved"], "y_pred": np.where(df["income"] > 35_000, "yes", "no")}).to_csv(tmp_path / "p.csv", index=False)
        spec = "source: predictions, path: p.csv"
    ctx = build(CLASSIFIER.replace("SOURCE", spec), tables, trust_pickle=True)
    art = ctx.model("approval")
    assert art.kind == "classifier" and art.source == source and art.positive_label == "yes"
    assert (art.estimator is None) == (source == "predictions")
    if source in ("skops", "pickle"):
        expected = est.predict_proba(art.X_eval)[:, 1]
        np.testing.assert_allclose(art.y_score, expected)
    out = findings("fairness.selection_rate_impact_ratio", ctx)
    assert "model:approval/by:gender" in out


# --------------------------------------------------------------------------- segmentation

SEGMENTS = """\
datasets:
  customers:
    source: {path: customers.csv}
    roles: {id: customer_id, protected: [gender, age]}
    bands: {age: [18, 35, 60, 121]}
  transactions:
    source: {path: transactions.csv}
models:
  - {name: seg, kind: segmentation, dataset: customers, SOURCE}
"""
RFM = "rfm: {dataset: transactions, customer: customer_id, date: date, amount: amount, as_of: 2026-07-01}"


def _segment_tables(gen):
    return gen.segmentation(n=300)


@pytest.mark.parametrize("algorithm", ["kmeans", "dbscan"])
def test_segmentation_train_with_rfm(build, gen, algorithm):
    tables = _segment_tables(gen)
    params = "params: {n_clusters: 3, log1p: true}" if algorithm == "kmeans" else "params: {min_samples: 8, log1p: true}"
    treatments = ", treatments: {0: gold, 1: silver}" if algorithm == "kmeans" else ""
    ctx = build(SEGMENTS.replace("SOURCE", f"source: train, algorithm: {algorithm}, {RFM}, {params}{treatments}"), tables)
    art = ctx.model("seg")
    buyers = set(tables["transactions"]["customer_id"])
    assert set(art.ids) == buyers and len(art.labels) == len(buyers) < 300
    assert any("without transactions" in n for n in art.notes)
    assert list(art.X.columns) == ["recency", "frequency", "monetary"]
    # RFM by hand for one customer
    tx = tables["transactions"]
    cid = art.ids[0]
    mine = tx[tx["customer_id"] == cid]
    assert art.X["frequency"].iloc[0] == len(mine)
    assert art.X["monetary"].iloc[0] == pytest.approx(mine["amount"].sum())
    assert art.X["recency"].iloc[0] == (pd.Timestamp("2026-07-01") - pd.to_datetime(mine["date"]).max()).days
    out = findings("fairness.cluster_balance", ctx)
    assert "model:seg/by:age" in out
    if algorithm == "kmeans":
        assert art.treatment == {"0": "gold", "1": "silver"}
        ratio = findings("fairness.segment_treatment_ratio", ctx)
        assert ratio["model:seg/by:age"].status.value in ("pass", "fail")


def test_segmentation_unknown_treatment_segment(build, gen):
    with pytest.raises(AuditInputError, match=r"segment\(s\) \['7'\] do not exist"):
        build(SEGMENTS.replace("SOURCE", f"source: train, {RFM}, params: {{n_clusters: 3}}, treatments: {{7: gold}}"), _segment_tables(gen))


@pytest.mark.parametrize("source", ["skops", "pickle"])
def test_segmentation_loaded(build, gen, tmp_path, source):
    tables = _segment_tables(gen)
    df = tables["customers"]
    df["spend"] = np.arange(len(df)) % 50
    df["visits"] = np.arange(len(df)) % 7
    est = KMeans(n_clusters=2, n_init=2, random_state=0).fit(df[["spend", "visits"]])
    path = tmp_path / "seg.model"
    sio.dump(est, path) if source == "skops" else joblib.dump(est, path)
    trusted = f", trusted_types: {json.dumps(sio.get_untrusted_types(file=path))}" if source == "skops" else ""
    ctx = build(SEGMENTS.replace("SOURCE", f"source: {source}, path: seg.model, features: [spend, visits]{trusted}"), tables, trust_pickle=True)
    art = ctx.model("seg")
    np.testing.assert_array_equal(art.labels, est.labels_)
    assert art.algorithm == "KMeans"


def test_segmentation_assignments(build, gen, tmp_path):
    tables = _segment_tables(gen)
    df = tables["customers"]
    seg = np.where(df["age"] < 40, "young", "mature")
    pd.DataFrame({"id": df["customer_id"], "segment": seg}).to_csv(tmp_path / "assign.csv", index=False)
    ctx = build(SEGMENTS.replace("SOURCE", "source: assignments, path: assign.csv, treatments: {young: discount}"), tables)
    art = ctx.model("seg")
    assert set(art.labels) == {"young", "mature"} and art.estimator is None
    out = findings("fairness.cluster_balance", ctx)
    assert out["model:seg/by:age"].status.value == "fail"  # segments ARE age groups
    treat = findings("fairness.segment_treatment_ratio", ctx)
    assert treat["model:seg/by:age"].status.value == "fail"


# --------------------------------------------------------------------------- text classifier

TEXT = """\
datasets:
  reviews:
    source: {path: reviews.csv}
    roles: {id: review_id, user: user_id, text: [review], target: label}
    positive_labels: ["1"]
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender]}
models:
  - {name: sentiment, kind: text_classifier, dataset: reviews, users: users, SOURCE}
"""


def _text_pipeline(df):
    return Pipeline([("tfidf", TfidfVectorizer()), ("model", LogisticRegression(max_iter=500))]).fit(df["review"], df["label"])


@pytest.mark.parametrize("source", ["train", "skops", "pickle", "predictions"])
def test_text_classifier_every_source(build, gen, tmp_path, source):
    tables = gen.text_classifier(n=500)
    df = tables["reviews"]
    spec = "source: train"
    if source in ("skops", "pickle"):
        est = _text_pipeline(df)
        path = tmp_path / "sentiment.model"
        sio.dump(est, path) if source == "skops" else joblib.dump(est, path)
        trusted = f", trusted_types: {json.dumps(sio.get_untrusted_types(file=path))}" if source == "skops" else ""
        spec = f"source: {source}, path: sentiment.model{trusted}"
    elif source == "predictions":
        pd.DataFrame({"id": df["review_id"], "y_true": df["label"], "y_pred": df["label"]}).to_csv(tmp_path / "p.csv", index=False)
        spec = "source: predictions, path: p.csv"
    ctx = build(TEXT.replace("SOURCE", spec), tables, trust_pickle=True)
    art = ctx.model("sentiment")
    assert art.kind == "text_classifier" and art.positive_label == 1 and list(art.labels) == [0, 1]
    assert list(art.sensitive.columns) == ["gender"] and art.sensitive["gender"].notna().all()
    assert set(art.language) <= {"en", "zh"} and "zh" in set(art.language)
    flips = findings("nlp.counterfactual_flip_rate", ctx)
    if source == "predictions":
        assert flips["model:sentiment"].status.value == "skipped"
        assert "identity swaps need a model" in flips["model:sentiment"].message
    else:
        if source in ("skops", "pickle"):
            np.testing.assert_allclose(art.predict_proba(["great service"]), est.predict_proba(["great service"]))
        assert "model:sentiment/swap:gender" in flips
    perf = findings("perf.by_group", ctx)
    assert any(k.startswith("model:sentiment/by:gender") for k in perf)
    pii = findings("nlp.pii_in_training_text", ctx, chunk_chars=None) if False else None
    del pii


def test_text_model_that_needs_features_not_text_is_refused(build, gen, tmp_path):
    tables = gen.text_classifier(n=200)
    est = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    joblib.dump(est, tmp_path / "bad.pkl")
    with pytest.raises(AuditInputError, match="cannot score raw text"):
        build(TEXT.replace("SOURCE", "source: pickle, path: bad.pkl"), tables, trust_pickle=True)


# --------------------------------------------------------------------------- recommender

RECS = """\
datasets:
  ratings:
    source: {path: ratings.csv}
    roles: {user: user_id, item: item_id, rating: rating, timestamps: [ts]}
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender]}
  items:
    source: {path: items.csv}
    roles: {id: item_id, category: genre, price: price}
models:
  - {name: recs, kind: recommender, dataset: ratings, users: users, items: items, SOURCE}
"""


@pytest.mark.parametrize("algorithm", ["user_knn", "content", "hybrid"])
def test_recommender_train(build, gen, algorithm):
    tables = gen.recommender(n_users=80, n_items=40)
    ctx = build(RECS.replace("SOURCE", f"source: train, algorithm: {algorithm}, k: 5, consent_column: consent_profiling"), tables)
    art = ctx.model("recs")
    assert art.k == 5 and set(art.recommendations["rank"]) == {1, 2, 3, 4, 5}
    opted_out = set(tables["users"].loc[~tables["users"]["consent_profiling"], "user_id"])
    assert opted_out and not (set(art.recommendations["user_id"]) & opted_out)
    assert set(art.item_features.columns) >= {"item_id", "category", "price", "popularity"}
    assert art.user_sensitive["gender"].notna().all()
    for check in ("fairness.user_quality_gap", "fairness.exposure_parity", "rec.popularity_bias", "fairness.price_differential", "rec.non_personalised_option"):
        out = findings(check, ctx)
        assert out and all(f.status.value != "error" for f in out.values()), (check, out)
    opt = findings("rec.non_personalised_option", ctx)["model:recs"]
    assert opt.status.value == "pass"


def test_recommender_duplicate_ratings_keep_the_latest(build, gen):
    tables = gen.recommender(n_users=40, n_items=30)
    r = tables["ratings"]
    first = r.iloc[0]
    newer = first.copy()
    newer["rating"] = 1 if first["rating"] != 1 else 5
    newer["ts"] = "2030-01-01T00:00:00"
    tables["ratings"] = pd.concat([r, newer.to_frame().T], ignore_index=True)
    ctx = build(RECS.replace("SOURCE", "source: train"), tables)
    art = ctx.model("recs")
    assert any("latest rating" in n for n in art.notes)
    model = art.estimator
    row = model.user_index_[first["user_id"]]
    col = model.item_index_[first["item_id"]]
    test = art.test_ratings
    held = test[(test["user_id"] == first["user_id"]) & (test["item_id"] == first["item_id"])]
    stored = held["rating"].tolist() + ([model.R_[row, col]] if model.R_[row, col] else [])
    assert stored == [newer["rating"]]


def test_recommendations_file_problems_are_input_errors(build, gen, tmp_path):
    tables = gen.recommender(n_users=30, n_items=20)
    pd.DataFrame({"user": ["U00001", "U00001"], "item": ["I0001", "I0002"], "rank": [1, 1]}).to_csv(tmp_path / "recs.csv", index=False)
    with pytest.raises(AuditInputError, match=r"repeat a \(user, rank\) pair"):
        build(RECS.replace("SOURCE", "source: recommendations, path: recs.csv"), tables)
    pd.DataFrame({"user": ["U00001"], "item": ["NOPE"], "rank": [1]}).to_csv(tmp_path / "recs.csv", index=False)
    with pytest.raises(AuditInputError, match="not in items dataset 'items'"):
        build(RECS.replace("SOURCE", "source: recommendations, path: recs.csv"), tables)
    pd.DataFrame({"usr": ["U00001"], "item": ["I0001"], "rank": [1]}).to_csv(tmp_path / "recs.csv", index=False)
    with pytest.raises(AuditInputError, match="lacks column"):
        build(RECS.replace("SOURCE", "source: recommendations, path: recs.csv"), tables)


def test_subject_kinds_from_config(build, gen):
    tables = gen.recommender(n_users=30, n_items=20)
    ctx = build(RECS.replace("SOURCE", "source: train"), tables)
    assert [s.name for s in ctx.subjects(SubjectKind.RECOMMENDER)] == ["recs"]


def test_cli_run_of_a_recommendations_file_records_its_hash(gen, tmp_path):
    tables = gen.recommender(n_users=40, n_items=25)
    for name, frame in tables.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    users = tables["users"]["user_id"].tolist()[:20]
    items = tables["items"]["item_id"].tolist()
    rows = [{"user": u, "item": items[(i + r) % len(items)], "rank": r + 1} for i, u in enumerate(users) for r in range(5)]
    pd.DataFrame(rows).to_csv(tmp_path / "recs.csv", index=False)
    cfg = tmp_path / "audit.yaml"
    cfg.write_text(RECS.replace("SOURCE", "source: recommendations, path: recs.csv") + "policies: [default]\n")
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--out", str(out)]) in (0, 1)
    doc = json.loads((out / "findings.json").read_text())
    model = next(m for m in doc["models"] if m["name"] == "recs")
    assert model["source"] == "recommendations" and model["kind"] == "recommender"
    manifest = json.loads((out / "manifest.json").read_text())
    entry = next(i for i in manifest["inputs"] if i.get("name") == "recs")
    assert entry["role"] == "recommendations"
    assert entry["sha256"] == hashlib.sha256((tmp_path / "recs.csv").read_bytes()).hexdigest()
