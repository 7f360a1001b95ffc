"""gov.representativeness, nlp.chatbot_disclosure and gov.dpia_trigger on small hand-built inputs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.core.context import Attestation, AuditContext, ColumnRoles, Dataset
from audit.core.finding import Finding
from audit.core.types import Severity, Status, SubjectKind
from audit.crm.artifacts import ClassifierArtifact, RegressorArtifact
from audit.policy.loader import load_policies
from audit.runner import build_result

from .runcheck import findings

load_builtin_checks()




def dataset(name: str, frame: pd.DataFrame, **roles: Any) -> Dataset:
    return Dataset(name=name, frame=frame, roles=ColumnRoles(**roles), source=f"{name}.csv", sha256="0" * 64)


def statuses(out: dict[str, Finding]) -> dict[str, Status]:
    return {k: f.status for k, f in out.items()}


# ---------------------------------------------------------------------------
# gov.representativeness


def classifier(name: str, gender: list[Any]) -> ClassifierArtifact:
    n = len(gender)
    return ClassifierArtifact(
        name=name,
        algorithm="logistic_regression",
        purpose="test",
        dataset="customers",
        features=["tenure"],
        estimator=None,
        sensitive=pd.DataFrame({"gender": gender}),
        X_eval=pd.DataFrame({"tenure": np.arange(n)}),
        y_true=np.zeros(n, dtype=int),
        y_pred=np.zeros(n, dtype=int),
        y_score=np.full(n, 0.2),
    )


def regressor(name: str, gender: list[Any]) -> RegressorArtifact:
    n = len(gender)
    return RegressorArtifact(
        name=name,
        algorithm="ridge",
        purpose="test",
        dataset="customers",
        features=["tenure"],
        estimator=None,
        sensitive=pd.DataFrame({"gender": gender}),
        X_eval=pd.DataFrame({"tenure": np.arange(n)}),
        y_true=np.zeros(n),
        y_pred=np.zeros(n),
    )


def representativeness_context() -> AuditContext:
    skewed = classifier("skewed", ["F"] * 7 + ["M"] * 2 + [None])  # F 0.7, M 0.2, unknown 0.1
    even = classifier("even", ["F", "M"] * 5)  # F 0.5, M 0.5
    value = regressor("value", ["F"] * 6 + ["M"] * 4)  # F 0.6, M 0.4
    customers = dataset(
        "customers", pd.DataFrame({"customer_id": ["C1"], "gender": ["F"]}), id="customer_id", protected=["gender"]
    )
    return AuditContext(datasets={"customers": customers}, models=[skewed, even, value])


def test_representativeness_skips_without_a_declared_population():
    out = findings("gov.representativeness", representativeness_context())
    assert statuses(out) == {
        "model:skewed": Status.SKIPPED,
        "model:even": Status.SKIPPED,
        "model:value": Status.SKIPPED,
    }
    assert "no population shares declared" in out["model:skewed"].message


def test_representativeness_total_variation_by_hand():
    # declared shares need not sum to one: 51/49 is read as 0.51/0.49
    out = findings(
        "gov.representativeness",
        representativeness_context(),
        population={"gender": {"F": 51, "M": 49}, "region": {"north": 1.0}},
    )
    assert statuses(out) == {
        "model:skewed/by:gender": Status.FAIL,
        "model:skewed/by:region": Status.SKIPPED,
        "model:even/by:gender": Status.PASS,
        "model:even/by:region": Status.SKIPPED,
        "model:value/by:gender": Status.PASS,
        "model:value/by:region": Status.SKIPPED,
    }
    skewed = out["model:skewed/by:gender"]
    # the missing gender counts as an undeclared 'unknown' group
    assert skewed.observed == pytest.approx(0.5 * (abs(0.7 - 0.51) + abs(0.2 - 0.49) + abs(0.1 - 0.0)))
    assert skewed.observed == pytest.approx(0.29)
    assert skewed.threshold == 0.1
    assert skewed.evidence["observed_shares"] == {"F": 0.7, "M": 0.2, "unknown": 0.1}
    assert skewed.evidence["rows"] == 10
    assert out["model:even/by:gender"].observed == pytest.approx(0.5 * (0.01 + 0.01))
    assert out["model:value/by:gender"].observed == pytest.approx(0.5 * (0.09 + 0.09))
    assert "'region' is not recorded" in out["model:skewed/by:region"].message
    strict = findings(
        "gov.representativeness",
        representativeness_context(),
        population={"gender": {"F": 0.51, "M": 0.49}},
        max_tv_distance=0.05,
    )
    assert statuses(strict) == {
        "model:skewed/by:gender": Status.FAIL,
        "model:even/by:gender": Status.PASS,
        "model:value/by:gender": Status.FAIL,
    }


def test_representativeness_uses_the_dataset_bands_for_numeric_attributes():
    art = classifier("by_age", ["F", "M", "F", "M"])
    art.sensitive = pd.DataFrame({"age": [22.0, 25.0, 35.0, 40.0]})
    customers = dataset(
        "customers", pd.DataFrame({"customer_id": ["C1"], "age": [30]}), id="customer_id", protected=["age"]
    )
    customers.bands = {"age": [18, 30, 45, 60, 121]}
    ctx = AuditContext(datasets={"customers": customers}, models=[art])
    # two customers in each declared band: the evaluation rows match the population exactly
    o = findings("gov.representativeness", ctx, population={"age": {"18-29": 0.5, "30-44": 0.5}})["model:by_age/by:age"]
    assert o.observed == pytest.approx(0.0)
    assert o.status is Status.PASS


# ---------------------------------------------------------------------------
# nlp.chatbot_disclosure


def transcripts() -> pd.DataFrame:
    rows = [
        # c1: English disclosure in the first bot turn
        ("c1", 1, "bot", "Hi, I'm an AI assistant for Acme. How can I help?"),
        ("c1", 2, "customer", "Where is my parcel?"),
        # c2: the customer speaks first; the first bot turn is in Chinese and discloses
        ("c2", 1, "customer", "你好"),
        ("c2", 2, "bot", "您好，我是智能客服，请问有什么可以帮您？"),
        # c3: disclosure only in the second bot turn does not count
        ("c3", 1, "bot", "Hello, how can I help you today?"),
        ("c3", 2, "customer", "Are you a person?"),
        ("c3", 3, "bot", "I am a virtual assistant."),
        # c4: rows out of order and speaker spelled in capitals
        ("c4", 2, "customer", "I want to cancel."),
        ("c4", 1, "Bot", "Welcome! This chat is answered by our digital assistant."),
    ]
    return pd.DataFrame(rows, columns=["conversation_id", "turn", "speaker", "text"])


def chatbot_context() -> AuditContext:
    chats = dataset("chats", transcripts(), text=["text"])
    customers = dataset(
        "customers", pd.DataFrame({"customer_id": ["C1"], "text": ["not a transcript"]}), id="customer_id"
    )
    return AuditContext(datasets={"chats": chats, "customers": customers}, models=[])


def test_chatbot_disclosure_by_hand():
    out = findings("nlp.chatbot_disclosure", chatbot_context())
    # only the transcript table has the conversation columns
    assert statuses(out) == {"dataset:chats": Status.FAIL}
    o = out["dataset:chats"]
    assert o.observed == pytest.approx(3 / 4) and o.threshold == 1.0
    assert o.evidence == {"conversations": 4, "without_disclosure": 1, "conversation_ids_without_disclosure": ["c3"]}
    assert "0.75 < minimum 1" in o.message
    relaxed = findings("nlp.chatbot_disclosure", chatbot_context(), min_rate=0.75)["dataset:chats"]
    assert relaxed.status is Status.PASS and relaxed.observed == pytest.approx(0.75)


def test_chatbot_disclosure_custom_patterns_and_columns():
    frame = transcripts().rename(columns={"speaker": "role", "conversation_id": "chat"})
    frame["role"] = frame["role"].replace({"bot": "agent", "Bot": "AGENT"})
    ctx = AuditContext(datasets={"chats": dataset("chats", frame)}, models=[])
    # with only the Chinese lexicon, the English disclosures no longer count
    o = findings(
        "nlp.chatbot_disclosure",
        ctx,
        speaker_column="role",
        conversation_column="chat",
        bot_value="agent",
        patterns=["智能客服"],
    )["dataset:chats"]
    assert o.status is Status.FAIL and o.observed == pytest.approx(0.25)
    assert o.evidence["conversation_ids_without_disclosure"] == ["c1", "c3", "c4"]
    # no bot turns at all: nothing to measure
    silent = findings(
        "nlp.chatbot_disclosure", ctx, speaker_column="role", conversation_column="chat", bot_value="bot"
    )["dataset:chats"]
    assert silent.status is Status.SKIPPED and "no bot turns" in silent.message


def test_chatbot_disclosure_with_a_typographic_apostrophe():
    frame = pd.DataFrame(
        {
            "conversation_id": ["c1", "c2"],
            "turn": [1, 1],
            "speaker": ["bot", "bot"],
            "text": ["Hi, I'm an AI. How can I help?", "Hi, I\u2019m an AI. How can I help?"],
        }
    )
    ctx = AuditContext(datasets={"chats": dataset("chats", frame)}, models=[])
    o = findings("nlp.chatbot_disclosure", ctx)["dataset:chats"]
    assert o.evidence["conversation_ids_without_disclosure"] == []
    assert o.status is Status.PASS and o.observed == 1.0


# ---------------------------------------------------------------------------
# gov.dpia_trigger


def model(name: str, kind: str = "classifier", algorithm: str = "logistic_regression") -> SimpleNamespace:
    return SimpleNamespace(name=name, kind=kind, algorithm=algorithm, dataset="customers", features=["tenure"])


def dpia_context(*, models: list[Any], datasets: int = 1) -> AuditContext:
    frames = {f"table{i}": dataset(f"table{i}", pd.DataFrame({"id": range(10)}), id="id") for i in range(datasets)}
    return AuditContext(datasets=frames, models=models)


def dpia(ctx: AuditContext, **params: Any) -> Finding:
    out = findings("gov.dpia_trigger", ctx, **params)
    assert list(out) == ["system"]
    return out["system"]


def test_dpia_one_criterion_needs_no_dpia():
    o = dpia(dpia_context(models=[model("churn")]))
    assert o.status is Status.PASS and o.observed == 1 and o.threshold == 2
    assert o.evidence["criteria_met"] == ["evaluation_or_scoring"]
    assert "no DPIA required" in o.message
    crit = o.evidence["criteria"]
    assert len(crit) == 9
    assert crit["large_scale"] == {"met": False, "basis": "largest dataset 10 rows vs 5000"}
    assert crit["service_denial"] == {"met": False, "basis": "not declared"}


def test_dpia_criteria_counted_and_fail_without_attestation():
    ctx = dpia_context(
        models=[model("churn", algorithm="mlp"), model("recs", kind="recommender", algorithm="knn")], datasets=2
    )
    o = dpia(ctx)
    assert o.status is Status.FAIL and o.observed == 3
    assert o.evidence["criteria_met"] == [
        "evaluation_or_scoring",
        "matching_or_combining_datasets",
        "innovative_technology",
    ]
    assert "attestation 'dpia_completed' is open" in o.message
    # declared criteria and what other checks left behind add up
    ctx.facts.special_category_hits = {"dataset:table0": {"health": 1}}
    ctx.facts.minors_found = True
    o = dpia(
        ctx, automated_significant_effect=True, systematic_monitoring=True, service_denial=True, large_scale_rows=10
    )
    assert o.observed == 9 and o.status is Status.FAIL
    # exactly two criteria already require a DPIA
    two = dpia(dpia_context(models=[model("churn")]), large_scale_rows=10)
    assert two.status is Status.FAIL and two.evidence["criteria_met"] == ["evaluation_or_scoring", "large_scale"]
    # a recommender alone scores no one
    none = dpia(dpia_context(models=[model("recs", kind="recommender", algorithm="knn")]))
    assert none.status is Status.PASS and none.observed == 0


def test_dpia_attestation_answered_passes():
    ctx = dpia_context(models=[model("churn", algorithm="mlp")], datasets=2)
    ctx.attestations = {"dpia_completed": Attestation(answered=False)}
    assert dpia(ctx).status is Status.FAIL
    ctx.attestations = {"dpia_completed": Attestation(answered=True, attested_by="DPO", date="2025-05-01")}
    o = dpia(ctx)
    assert o.status is Status.PASS and o.observed == 3
    assert "attested as done by DPO on 2025-05-01" in o.message
    # another attestation id is looked up when the policy names it
    assert dpia(ctx, attestation_id="dpia_2025").status is Status.FAIL


POLICY = """\
metadata: {{id: dpia-test, title: DPIA test, version: "1", jurisdiction: EU}}
checks:
  - id: gov.dpia_trigger
attestations:
  - id: dpia_completed
    question: Has a DPIA been completed for the CRM models?
{answer}"""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("", Status.FAIL),
        (
            "    answer: yes, DPIA-2025-03\n    attested_by: Data Protection Officer\n    date: 2025-05-01\n",
            Status.PASS,
        ),
    ],
)
def test_dpia_attestation_from_the_policy(tmp_path: Path, answer: str, expected: Status):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.format(answer=answer), encoding="utf-8")
    ctx = dpia_context(models=[model("churn", algorithm="mlp")], datasets=2)
    # what the runner reads from the policy replaces anything set beforehand
    ctx.attestations = {"dpia_completed": Attestation(answered=expected is Status.FAIL, attested_by="x")}
    res = build_result(ctx, load_policies([str(path)]), fail_on=Severity.HIGH, today=date(2025, 6, 30))
    [f] = [f for f in res.findings if f.check_id == "gov.dpia_trigger"]
    assert f.subject == "system" and f.subject_kind is SubjectKind.SYSTEM
    assert f.status is expected and f.observed == 3
    if expected is Status.PASS:
        assert "Data Protection Officer on 2025-05-01" in f.message
