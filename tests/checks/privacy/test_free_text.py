"""pii.free_text and nlp.pii_in_training_text on labelled texts with known personal data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audit.checks.privacy.pii import FreeTextPII, PIIInTrainingText, shared_scanner
from audit.core.options import PIIOptions
from audit.core.types import Status

from .helpers import context, dataset, model, run

ROWS = [
    ("T1", "en", "Please call me on +44 7700 900123 about my order."),
    ("T2", "en", "My email is jane.doe@example.com, thanks"),
    ("T3", "en", "The delivery was fast."),
    ("T4", "zh", "我的手机号是13812345678，请联系我。"),
    ("T5", "zh", "身份证号11010519491231002X，请核实。"),
    ("T6", "en", "My name is Hilary Kirby and the app keeps crashing."),
    ("T7", "en", None),
    ("T8", "en", "Card 4111 1111 1111 1111 was charged twice."),
    ("T9", "en", "Write to mark.chapman24@example.com or ring +44 7411 758590."),
    ("T10", "en", "Thanks, the refund arrived."),
]
RAW = [
    "7700 900123",
    "jane.doe@example.com",
    "13812345678",
    "11010519491231002X",
    "Hilary Kirby",
    "4111 1111 1111 1111",
    "mark.chapman24@example.com",
    "7411 758590",
]
EXPECTED_ROWS = {
    "PHONE_NUMBER": ["T1", "T9"],
    "EMAIL_ADDRESS": ["T2", "T9"],
    "CN_MOBILE": ["T4"],
    "CN_RESIDENT_ID": ["T5"],
    "PERSON": ["T6"],
    "CREDIT_CARD": ["T8"],
}


def tickets(**kw):
    frame = pd.DataFrame(ROWS, columns=["ticket_id", "language", "text"])
    return dataset("tickets", frame, language_column="language", id="ticket_id", text=["text"], **kw)


@pytest.fixture
def outcome(scanner):
    ctx = context(tickets(), scanner=scanner)
    return ctx, run(FreeTextPII, ctx)


def test_exact_entity_counts_and_row_ids(outcome):
    _, out = outcome
    assert list(out) == ["dataset:tickets/column:text"]
    o = out["dataset:tickets/column:text"]
    assert o.status is Status.FAIL
    ev = o.evidence
    assert ev["rows_scanned"] == 10 and ev["rows_with_pii"] == 7
    assert o.observed == pytest.approx(0.7)
    assert ev["entity_counts"] == {e: len(r) for e, r in EXPECTED_ROWS.items()}
    assert {e: sorted(r) for e, r in ev["rows_by_entity"].items()} == EXPECTED_ROWS
    assert "0.7 > maximum 0" in o.message and "no regulatory threshold" in o.message


def test_examples_are_masked_and_evidence_has_no_raw_value(outcome):
    _, out = outcome
    ev = out["dataset:tickets/column:text"].evidence
    assert 1 <= len(ev["masked_examples"]) <= 5
    assert any("<EMAIL_ADDRESS>" in x for x in ev["masked_examples"])
    blob = (
        json.dumps(out["dataset:tickets/column:text"].evidence, ensure_ascii=False)
        + out["dataset:tickets/column:text"].message
    )
    assert not [v for v in RAW if v in blob]


def test_scanner_is_shared_and_hits_cached(outcome):
    ctx, _ = outcome
    assert ctx.memo["pii_scanner"] is shared_scanner(ctx)
    assert len(ctx.memo["pii_text_hits"]) == 9  # every non-empty text once
    assert ctx.facts.pii_free_text["dataset:tickets/column:text"]["PHONE_NUMBER"] == 2


def test_clean_column_passes(scanner):
    frame = pd.DataFrame({"id": [1, 2], "text": ["Great service.", "包装很好。"]})
    out = run(FreeTextPII, context(dataset("fb", frame, id="id", text=["text"]), scanner=scanner))
    o = out["dataset:fb/column:text"]
    assert o.status is Status.PASS and o.observed == 0.0 and o.evidence["entity_counts"] == {}


def test_allow_list_drops_a_persona_name(scanner):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "text": [
                "Hello! I am Ava, an automated assistant.",
                "Hello! I am Ava, an automated assistant.",
                "Reply to jane.doe@example.com please.",
            ],
        }
    )
    ds = dataset("chat", frame, id="id", text=["text"])
    before = run(FreeTextPII, context(ds, scanner=scanner))["dataset:chat/column:text"]
    assert before.evidence["entity_counts"] == {"PERSON": 2, "EMAIL_ADDRESS": 1}
    after = run(FreeTextPII, context(ds, scanner=scanner), allow_list=["ava"])["dataset:chat/column:text"]
    assert after.evidence["entity_counts"] == {"EMAIL_ADDRESS": 1}
    assert after.evidence["rows_by_entity"] == {"EMAIL_ADDRESS": [3]}


def test_rows_listed_rarest_match_first_and_capped(scanner):
    texts = ["Hello! I am Ava, an automated assistant."] * 12 + ["My name is Hilary Kirby and the app keeps crashing."]
    frame = pd.DataFrame({"id": [f"M{i:02d}" for i in range(13)], "text": texts})
    o = run(FreeTextPII, context(dataset("chat", frame, id="id", text=["text"]), scanner=scanner), max_ids=3)[
        "dataset:chat/column:text"
    ]
    assert o.evidence["entity_counts"] == {"PERSON": 13}
    assert o.evidence["rows_by_entity"]["PERSON"] == ["M12", "M00", "M01"]
    assert o.evidence["rows_by_entity_truncated"] == {"PERSON": 13}
    assert o.evidence["repeated_match_rows"] == {"PERSON": 12}


def test_options_build_a_pattern_only_scanner_and_record_it():
    ctx = context(tickets())
    ctx.pii_options = PIIOptions(model=None)
    out = run(FreeTextPII, ctx)
    ev = out["dataset:tickets/column:text"].evidence
    # without a model, names are found only from the words around them ("My name is Hilary Kirby")
    assert ev["entity_counts"]["PERSON"] == 1 and ev["entity_counts"]["EMAIL_ADDRESS"] == 2
    assert "LOCATION" not in ev["entity_counts"]
    assert any("Pattern-only scan" in item for item in ctx.limitations)
    manifest = ctx.report.manifest["nlp_model"]
    assert manifest["mode"] == "pattern-only" and manifest["name"] is None


def test_manifest_records_the_nlp_model():
    ctx = context(tickets())
    run(FreeTextPII, ctx)
    manifest = ctx.report.manifest["nlp_model"]
    assert manifest["mode"] == "ner" and manifest["name"] and manifest["version"] and len(manifest["sha256"]) == 64


def test_only_the_options_set_reach_the_scanner():
    assert PIIOptions().scanner_kwargs() == {}
    opts = PIIOptions.model_validate({"model": None, "languages": "en", "score_threshold": {"PERSON": 0.6}})
    assert opts.scanner_kwargs() == {"model": None, "languages": ("en",), "score_threshold": {"PERSON": 0.6}}


def test_training_texts_reuse_the_free_text_scan(scanner, monkeypatch):
    frame = pd.DataFrame(ROWS, columns=["ticket_id", "language", "text"])
    texts = frame["text"].iloc[[0, 1, 2, 3]].reset_index(drop=True)
    art = model(
        "topic_lr",
        "tickets",
        ["text"],
        kind="text_classifier",
        texts=texts,
        language=frame["language"].iloc[[0, 1, 2, 3]].reset_index(drop=True),
        ids=np.array(["C1", "C2", "C3", "C4"], dtype=object),
    )
    ctx = context(tickets(), models=[art], scanner=scanner)
    run(FreeTextPII, ctx)
    calls = []
    original = scanner.scan_texts
    monkeypatch.setattr(scanner, "scan_texts", lambda *a, **k: calls.append(a) or original(*a, **k))
    out = run(PIIInTrainingText, ctx)
    assert calls == []
    o = out["model:topic_lr"]
    assert o.status is Status.FAIL and o.observed == pytest.approx(0.75)
    assert o.evidence["rows_by_entity"] == {"CN_MOBILE": ["C4"], "EMAIL_ADDRESS": ["C2"], "PHONE_NUMBER": ["C1"]}
    assert o.evidence["row_ids_are"] == "artifact ids"


def test_model_without_texts_is_skipped(scanner):
    art = model("empty", "tickets", ["text"], kind="text_classifier", texts=pd.Series([], dtype=object))
    out = run(PIIInTrainingText, context(models=[art], scanner=scanner))
    assert out["model:empty"].status is Status.SKIPPED
