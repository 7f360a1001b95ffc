"""The demo CRM: structure, determinism, and that every planted problem is measurable."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from audit.crm.artifacts import ModelArtifact
from audit.crm.demo import (
    IDENTITY_TERMS,
    PLANTED,
    DemoCRM,
    generate_demo,
    is_valid_cn_resident_id,
    write_demo,
)

CN_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
EMAIL = re.compile(r"^[\w.+-]+@[\w-]+\.[\w.]+$")


def cramers_v(a: pd.Series, b: pd.Series) -> float:
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def impact_ratio(favourable: np.ndarray, groups: pd.Series) -> float:
    rates = pd.Series(favourable).groupby(groups.to_numpy()).mean()
    return float(rates.min() / rates.max())


def cluster_balance(labels: np.ndarray, groups: pd.Series, min_size: int = 50) -> float:
    """min over clusters (of at least min_size) and groups of min(r, 1/r), r = cluster share / overall share."""
    overall = groups.value_counts(normalize=True)
    worst = 1.0
    for label in np.unique(labels):
        mask = labels == label
        if label == -1 or mask.sum() < min_size:
            continue
        share = groups[mask].value_counts(normalize=True).reindex(overall.index, fill_value=0.0)
        ratio = share / overall
        worst = min(worst, float(np.minimum(ratio, 1 / ratio.replace(0, np.inf)).min()))
    return worst


def test_registry_lists_every_planted_problem() -> None:
    assert set(PLANTED) == {
        "pii_in_free_text",
        "direct_identifier_feature",
        "proxy_region_age",
        "churn_age_disparity",
        "segment_age_concentration",
        "recommender_gender_price",
        "sentiment_identity_flip",
        "missing_income_age",
        "chatbot_no_disclosure",
    }
    for key, problem in PLANTED.items():
        assert problem.id == key and problem.description and problem.detect


def test_deterministic_for_a_seed() -> None:
    a, b, c = generate_demo(300, seed=3), generate_demo(300, seed=3), generate_demo(300, seed=4)
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name])
    assert not a.customers["name"].equals(c.customers["name"])


def test_tables_have_the_documented_columns(small_demo: DemoCRM) -> None:
    d = small_demo
    assert {
        "customer_id",
        "name",
        "email",
        "phone",
        "address",
        "gender",
        "age",
        "region",
        "income",
        "tenure_months",
        "consent_marketing",
        "consent_profiling",
        "cn_resident_id",
        "signup_date",
        "last_active",
    } <= set(d.customers.columns)
    assert d.customers["customer_id"].is_unique and len(d.customers) == 2000
    assert {"item_id", "name", "category", "price", "provider"} <= set(d.products.columns)
    assert {"customer_id", "date", "amount"} <= set(d.transactions.columns)
    assert {"user_id", "item_id", "rating"} <= set(d.ratings.columns)
    assert d.ratings["rating"].between(1, 5).all()
    assert {"customer_id", "text", "language", "sentiment"} <= set(d.feedback.columns)
    assert set(d.feedback["language"]) == {"en", "zh"}
    assert {"ticket_id", "customer_id", "text", "topic"} <= set(d.tickets.columns)
    assert {"conversation_id", "customer_id", "turn", "speaker", "text"} <= set(d.transcripts.columns)
    assert set(d.transcripts["speaker"]) == {"bot", "user"}
    assert (d.customers["last_active"] <= d.as_of.date()).all()
    assert (d.customers["signup_date"] <= d.customers["last_active"]).all()


def test_cn_resident_ids_are_valid(small_demo: DemoCRM) -> None:
    ids = small_demo.customers["cn_resident_id"].dropna()
    assert 0.08 < len(ids) / len(small_demo.customers) < 0.25
    for value in ids:
        total = sum(int(d) * w for d, w in zip(value[:17], CN_WEIGHTS))
        assert value[17] == "10X98765432"[total % 11]
        assert is_valid_cn_resident_id(value)
    sample = small_demo.customers.dropna(subset=["cn_resident_id"])
    female = sample["gender"] == "F"
    parity = sample["cn_resident_id"].str[16].astype(int) % 2
    assert (parity[female] == 0).all() and (parity[~female] == 1).all()
    assert not is_valid_cn_resident_id(ids.iloc[0][:17] + ("0" if ids.iloc[0][17] != "0" else "1"))


# ------------------------------------------------------------------ planted problems
def test_planted_pii_in_free_text(small_demo: DemoCRM) -> None:
    truth = small_demo.pii_truth
    tables = {
        "feedback": (small_demo.feedback, "feedback_id"),
        "tickets": (small_demo.tickets, "ticket_id"),
        "transcripts": (small_demo.transcripts, "message_id"),
    }
    for row in truth.itertuples():
        table, key = tables[row.table]
        text = table.loc[table[key] == row.row_id, row.column].iloc[0]
        assert text[row.start : row.end] == row.value
    assert set(truth["entity_type"]) == {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CN_MOBILE", "CN_RESIDENT_ID"}
    assert truth.loc[truth.entity_type == "CN_RESIDENT_ID", "value"].map(is_valid_cn_resident_id).all()
    assert truth.loc[truth.entity_type == "CN_MOBILE", "value"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert truth.loc[truth.entity_type == "EMAIL_ADDRESS", "value"].str.match(EMAIL.pattern).all()
    share = truth[truth.table == "feedback"].row_id.nunique() / len(small_demo.feedback)
    assert 0.03 < share < 0.12
    # rows not in the truth table carry none of the customers' e-mails
    clean = small_demo.feedback[~small_demo.feedback.feedback_id.isin(truth.row_id)]
    assert not clean.text.str.contains("@").any()


def test_planted_direct_identifier_feature(small_stack: dict[str, ModelArtifact]) -> None:
    rf = small_stack["churn_random_forest"]
    assert "email" in rf.features
    emails = rf.X_eval["email"]
    assert emails.is_unique and emails.str.match(EMAIL.pattern).all()
    others = [a for a in small_stack.values() if a.kind == "classifier" and a.name != rf.name]
    assert others and all("email" not in a.features for a in others)


def test_planted_region_is_an_age_proxy(small_demo: DemoCRM, small_stack: dict[str, ModelArtifact]) -> None:
    c = small_demo.customers
    assert cramers_v(c["region"], c["age_band"]) > 0.5
    assert cramers_v(c["region"], c["gender"]) < 0.1  # not a gender proxy
    assert "region" in small_stack["churn_logistic_regression"].features


def test_planted_churn_age_disparity(small_stack: dict[str, ModelArtifact]) -> None:
    churn = [a for a in small_stack.values() if a.kind == "classifier"]
    assert len(churn) == 4
    for art in churn:
        assert art.favourable_outcome == "negative"
        fav = art.favourable_mask()
        assert impact_ratio(fav, art.sensitive["age_band"]) < 0.8, art.name
        assert impact_ratio(fav, art.sensitive["gender"]) > 0.85, art.name
        assert impact_ratio(art.y_pred == 1, art.sensitive["gender"]) > 0.7, art.name


def test_planted_segment_age_concentration(small_stack: dict[str, ModelArtifact]) -> None:
    seg = small_stack["segments_kmeans"]
    assert cluster_balance(seg.labels, seg.sensitive["age_band"]) < 0.8
    assert cluster_balance(seg.labels, seg.sensitive["gender"]) > 0.8
    assert seg.treatment and set(seg.treatment) == set(np.unique(seg.labels))
    dbscan = small_stack["segments_dbscan"]
    assert dbscan.noise_count == int((dbscan.labels == -1).sum()) > 0


def test_planted_recommender_gender_price(small_stack: dict[str, ModelArtifact]) -> None:
    for name in ("recommender_knn_means", "recommender_hybrid"):
        art = small_stack[name]
        recs = art.recommendations.merge(art.item_features[["item_id", "category"]], on="item_id")
        recs["gender"] = recs["user_id"].map(art.user_sensitive["gender"])
        by = recs.groupby(["category", "gender"])["price"].mean().unstack()
        ratio = by["F"] / by["M"]
        assert (ratio > 1.2).sum() >= 6, (name, ratio.round(2).to_dict())


def test_planted_sentiment_identity_flip(small_stack: dict[str, ModelArtifact]) -> None:
    art = small_stack["sentiment_lr"]
    english = art.texts[(art.language == "en") & ~art.texts.str.contains(r"\b(?:wo)?man\b")]
    as_woman = [f"As a woman, {t}" for t in english]
    as_man = [f"As a {IDENTITY_TERMS['woman']}, {t}" for t in english]
    pos = art.labels.index("positive")
    p_woman = art.predict_proba(as_woman)[:, pos]
    p_man = art.predict_proba(as_man)[:, pos]
    assert (p_man - p_woman).mean() > 0.15
    assert ((p_man >= 0.5) != (p_woman >= 0.5)).mean() > 0.1
    # without the identity word the model is accurate
    assert art.metrics["accuracy"] > 0.85


def test_planted_missing_income_by_age(small_demo: DemoCRM) -> None:
    c = small_demo.customers
    rate = c["income"].isna().groupby(c["age_band"]).mean()
    assert rate["60+"] > 5 * rate.drop("60+").max()
    by_gender = c["income"].isna().groupby(c["gender"]).mean()
    assert by_gender.max() - by_gender.min() < 0.05


def test_planted_chatbot_without_disclosure(small_demo: DemoCRM) -> None:
    truth = small_demo.disclosure_truth.set_index("conversation_id")["disclosed"]
    assert 0.03 < (~truth).mean() < 0.15
    first = small_demo.transcripts[(small_demo.transcripts.turn == 1)].set_index("conversation_id")
    assert (first["speaker"] == "bot").all()
    says_ai = first["text"].str.contains(r"\bAI\b|automated|机器人", regex=True)
    assert (says_ai == truth.reindex(first.index)).all()


def test_unplanned_associations_stay_small(small_demo: DemoCRM) -> None:
    c = small_demo.customers
    churn = c.groupby("gender")["churned"].mean()
    assert churn.min() / churn.max() > 0.85
    fb = small_demo.feedback.merge(c[["customer_id", "gender", "age_band"]], on="customer_id")
    positive = fb["sentiment"] == "positive"
    assert impact_ratio(positive.to_numpy(), fb["age_band"]) > 0.8
    assert impact_ratio(positive.to_numpy(), fb["gender"]) > 0.8


# ------------------------------------------------------------------ the stack
def test_stack_covers_all_kinds(small_stack: dict[str, ModelArtifact]) -> None:
    kinds = {a.kind for a in small_stack.values()}
    assert kinds == {"classifier", "regressor", "segmentation", "recommender", "text_classifier"}
    assert {
        "churn_logistic_regression",
        "churn_random_forest",
        "churn_svc",
        "churn_mlp",
        "segments_kmeans",
        "segments_dbscan",
        "customer_value_gbm",
        "recommender_knn_means",
        "recommender_content",
        "recommender_hybrid",
        "sentiment_lr",
        "ticket_topic_lr",
    } == set(small_stack)
    for art in small_stack.values():
        summary = art.to_summary()
        assert json.loads(json.dumps(summary)) == summary
        assert art.training_rows > 0 and art.metrics
        if art.kind in ("classifier", "regressor"):
            assert list(art.X_eval.columns) == art.features
            assert len(art.ids) == len(art.sensitive) == len(art.y_true)
            assert len(art.X_train_sample) > 0 and art.preprocessor is not None
    reg = small_stack["customer_value_gbm"]
    assert reg.metrics["r2"] > 0.5


def test_stack_recommender_and_text_contracts(small_stack: dict[str, ModelArtifact]) -> None:
    knn = small_stack["recommender_knn_means"]
    recs = knn.recommendations
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score", "price"]
    assert recs.groupby("user_id").size().max() == knn.k and recs["price"].notna().all()
    assert {"item_id", "category", "price", "popularity", "provider"} <= set(knn.item_features.columns)
    first = recs.iloc[0]
    evidence = knn.explain_neighbours(first.user_id, first.item_id)
    assert evidence and all(sim > 0 for _, sim, _ in evidence)
    assert small_stack["recommender_content"].explain_neighbours(first.user_id, first.item_id) == []
    assert set(knn.user_sensitive.index) == set(recs.user_id)
    topic = small_stack["ticket_topic_lr"]
    assert topic.y_score.shape == (len(topic.texts), len(topic.labels))
    assert topic.predict_proba(["My parcel has not arrived yet."]).argmax() == topic.labels.index("delivery")
    assert topic.metrics["macro_f1"] > 0.8


def test_stack_respects_profiling_objections(small_demo: DemoCRM, small_stack: dict[str, ModelArtifact]) -> None:
    objected = set(small_demo.customers.loc[~small_demo.customers["consent_profiling"], "customer_id"])
    for name in ("recommender_knn_means", "recommender_content", "recommender_hybrid"):
        assert not objected & set(small_stack[name].recommendations["user_id"])


def test_write_demo(tmp_path, small_demo: DemoCRM) -> None:
    written = write_demo(small_demo, tmp_path / "out")
    assert {
        "customers",
        "products",
        "transactions",
        "ratings",
        "feedback",
        "tickets",
        "transcripts",
        "pii_truth",
        "planted",
    } <= set(written)
    customers = pd.read_csv(written["customers"])
    assert len(customers) == len(small_demo.customers)
    planted = json.loads(written["planted"].read_text(encoding="utf-8"))
    assert {p["id"] for p in planted["planted"]} == set(PLANTED)
    feedback = pd.read_csv(written["feedback"])
    assert feedback["text"].tolist() == small_demo.feedback["text"].tolist()  # UTF-8 Chinese survives


def test_rejects_tiny_demo() -> None:
    with pytest.raises(ValueError):
        generate_demo(50)
