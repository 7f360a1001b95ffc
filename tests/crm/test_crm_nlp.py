from __future__ import annotations

import pickle

import numpy as np
import pytest

from audit.crm.nlp import TextClassifier, detect_language, evaluate_text_classifier, porter_stem, tokenize

# Examples from Porter's 1980 paper (word -> stem after all steps).
PORTER = {
    "caresses": "caress",
    "ponies": "poni",
    "ties": "ti",
    "cats": "cat",
    "feed": "feed",
    "agreed": "agre",
    "plastered": "plaster",
    "bled": "bled",
    "motoring": "motor",
    "sing": "sing",
    "hopping": "hop",
    "tanned": "tan",
    "falling": "fall",
    "hissing": "hiss",
    "fizzed": "fizz",
    "failing": "fail",
    "filing": "file",
    "happy": "happi",
    "sky": "sky",
    "relational": "relat",
    "conditional": "condit",
    "generalizations": "gener",
    "oscillators": "oscil",
    "adjustment": "adjust",
    "replacement": "replac",
    "connections": "connect",
    "controlling": "control",
    "effective": "effect",
}


@pytest.mark.parametrize(("word", "stem"), sorted(PORTER.items()))
def test_porter_stemmer(word: str, stem: str) -> None:
    assert porter_stem(word) == stem


def test_tokenize_english_and_chinese() -> None:
    assert tokenize("I didn't like the deliveries, NOT good!") == ["not", "like", "deliveri", "not", "good"]
    zh = tokenize("快递太慢了，我不满意。")
    assert "快递" in zh and "不" in zh and "了" not in zh and "，" not in zh
    assert detect_language("快递太慢了") == "zh" and detect_language("slow parcel") == "en"
    assert tokenize(None) == []  # type: ignore[arg-type]


TRAIN = [
    ("great service, very happy", "pos"),
    ("excellent delivery, love it", "pos"),
    ("happy with the quick refund", "pos"),
    ("love the product quality", "pos"),
    ("great price and fast delivery", "pos"),
    ("excellent support, thank you", "pos"),
    ("terrible service, very angry", "neg"),
    ("awful delivery, hate it", "neg"),
    ("angry about the slow refund", "neg"),
    ("hate the poor product quality", "neg"),
    ("terrible price and slow delivery", "neg"),
    ("awful support, useless", "neg"),
    ("物流很快，非常满意", "pos"),
    ("客服很好，推荐", "pos"),
    ("物流太慢，很失望", "neg"),
    ("客服很差，不推荐", "neg"),
]
TEST = [
    ("very happy, great product", "pos"),
    ("love the excellent service", "pos"),
    ("terrible and slow", "neg"),
    ("awful quality, angry", "neg"),
    ("客服非常满意", "pos"),
    ("物流很差，失望", "neg"),
]


def test_tfidf_lr_accuracy_on_a_small_labelled_set() -> None:
    texts, labels = zip(*TRAIN)
    model = TextClassifier(random_state=0).fit(texts, labels)
    test_texts, truth = zip(*TEST)
    pred = model.predict(test_texts)
    metrics = evaluate_text_classifier(truth, pred)
    assert metrics["accuracy"] == pytest.approx(np.mean(np.asarray(pred) == np.asarray(truth)))
    assert metrics["accuracy"] >= 5 / 6 and metrics["macro_f1"] >= 0.8
    proba = model.predict_proba(["great", "terrible", "物流很快"])
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert list(model.classes_) == ["neg", "pos"]
    assert proba[0, 1] > 0.5 > proba[1, 1]
    assert dict(model.top_terms("neg", 20)).get("terribl", 0) > 0
    # picklable (the tokenizer is a module-level callable)
    again = pickle.loads(pickle.dumps(model))
    assert np.allclose(again.predict_proba(["great"]), proba[:1])
