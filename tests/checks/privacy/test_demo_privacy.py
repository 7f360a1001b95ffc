"""The privacy and data-quality checks on the built-in demo CRM: planted personal data found, none leaked."""

from __future__ import annotations

import json

import pytest

from audit.checks import load_builtin_checks
from audit.core.types import Severity, Status
from audit.demo import demo_context
from audit.policy.loader import load_policies
from audit.runner import build_result

load_builtin_checks()

CHECKS = {
    "pii.direct_identifiers",
    "pii.free_text",
    "pii.special_category",
    "pii.cn_minor",
    "privacy.pseudonymisation",
    "dq.validity",
    "dq.cn_id_consistency",
    "dq.retention",
    "nlp.pii_in_training_text",
}
TABLES = {"feedback": "demo.feedback", "tickets": "demo.tickets", "transcripts": "demo.transcripts"}
PHONES = {"PHONE_NUMBER", "CN_MOBILE"}  # an unallocated Chinese prefix is still a phone number
CHURN = ("churn_logistic_regression", "churn_random_forest", "churn_svc", "churn_mlp")


@pytest.fixture(scope="module")
def audit():
    ctx, _ = demo_context(n_customers=2000, seed=7)
    policy = load_policies(["default"])
    policy.checks = {k: v for k, v in policy.checks.items() if k in CHECKS | {"gov.dpia_trigger"}}
    result = build_result(ctx, policy, fail_on=Severity.HIGH)
    findings = {(f.check_id, f.subject): f for f in result.findings}
    return ctx, ctx.demo, result, findings


def test_every_check_ran_without_error(audit):
    _, _, result, findings = audit
    assert {c for c, _ in findings} == CHECKS | {"gov.dpia_trigger"}
    assert not [f"{f.check_id} {f.subject}: {f.message}" for f in result.findings if f.status is Status.ERROR]


def _found(findings, table: str) -> dict[str, set[str]]:
    f = findings[("pii.free_text", f"dataset:{TABLES[table]}/column:text")]
    assert f.status is Status.FAIL
    return {e: set(rows) for e, rows in f.evidence["rows_by_entity"].items()}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_planted_free_text_pii_found_in_the_right_rows(audit, table):
    _, demo, _, findings = audit
    found = _found(findings, table)
    truth = demo.pii_truth[demo.pii_truth["table"] == table]
    for entity, group in truth.groupby("entity_type"):
        rows = set(group["row_id"])
        family = PHONES if entity in PHONES else {entity}
        hit = set().union(*(found.get(e, set()) for e in family))
        recall = len(rows & hit) / len(rows)
        # names depend on the small English NER model and the Chinese name rules; formats are exact
        assert recall >= (0.85 if entity == "PERSON" else 1.0), f"{table} {entity}: recall {recall:.2f}"
    for entity in ("EMAIL_ADDRESS", "CN_RESIDENT_ID", "CN_MOBILE"):
        planted = set(truth["row_id"][truth["entity_type"].isin(PHONES if entity == "CN_MOBILE" else {entity})])
        assert found.get(entity, set()) <= planted, f"{table} {entity}: rows without planted data"


def test_person_recall_over_all_tables(audit):
    _, demo, _, findings = audit
    truth = demo.pii_truth[demo.pii_truth["entity_type"] == "PERSON"]
    hit = sum(r in _found(findings, t).get("PERSON", set()) for t, r in zip(truth["table"], truth["row_id"]))
    assert hit / len(truth) >= 0.9


def test_training_texts_of_both_text_models_fail(audit):
    _, demo, _, findings = audit
    for name, table in (("sentiment_lr", "feedback"), ("ticket_topic_lr", "tickets")):
        f = findings[("nlp.pii_in_training_text", f"model:{name}")]
        assert f.status is Status.FAIL
        frame = getattr(demo, table)
        planted = set(frame.loc[frame.iloc[:, 0].isin(demo.pii_truth["row_id"]), "customer_id"])
        assert set(f.evidence["rows_by_entity"]["EMAIL_ADDRESS"]) <= planted


def test_email_feature_of_the_random_forest_fails(audit):
    ctx, _, _, findings = audit
    f = findings[("pii.direct_identifiers", "model:churn_random_forest/feature:email")]
    assert f.status is Status.FAIL and f.severity is Severity.HIGH and f.evidence["entity_type"] == "EMAIL_ADDRESS"
    for m in CHURN:
        if m != "churn_random_forest":
            assert findings[("pii.direct_identifiers", f"model:{m}/features")].status is Status.PASS
    report = findings[("pii.direct_identifiers", "dataset:demo.customers")]
    assert report.status is Status.PASS and report.severity is Severity.INFO
    assert {"name", "email", "phone", "cn_resident_id"} <= set(report.evidence["identifier_columns"])
    assert set(ctx.facts.direct_identifier_columns["demo.customers"]) == set(report.evidence["identifier_columns"])


def test_customer_table_data_quality(audit):
    _, _, _, findings = audit
    subject = "dataset:demo.customers"
    assert findings[("dq.cn_id_consistency", f"{subject}/column:cn_resident_id")].status is Status.PASS
    assert findings[("dq.validity", f"{subject}/column:cn_resident_id/checksum")].status is Status.PASS
    assert findings[("dq.validity", f"{subject}/column:age/range")].status is Status.PASS
    assert findings[("dq.retention", subject)].status is Status.PASS
    assert findings[("pii.cn_minor", subject)].status is Status.PASS
    assert findings[("privacy.pseudonymisation", subject)].status is Status.PASS
    # the generator draws Chinese mobile numbers from allocated carrier prefixes only
    prefix = findings[("dq.validity", f"{subject}/column:phone/cn_mobile_prefix")]
    assert prefix.status is Status.PASS and prefix.observed == 1.0


def test_shared_state_feeds_the_dpia_trigger(audit):
    ctx, _, result, findings = audit
    # income is not a special category (GDPR Art. 9, PIPL Art. 28): the demo customers hold none
    assert not ctx.facts.special_category_hits.get("dataset:demo.customers")
    assert not ctx.facts.minors_found
    criteria = findings[("gov.dpia_trigger", "system")].evidence["criteria"]
    assert not criteria["sensitive_data"]["met"] and not criteria["vulnerable_data_subjects"]["met"]
    assert criteria["evaluation_or_scoring"]["met"] and criteria["large_scale"]["met"] is False
    assert result.extras["manifest"]["nlp_model"]["sha256"]


def test_serialised_findings_hold_no_raw_personal_data(audit):
    _, demo, result, _ = audit
    blob = json.dumps([f.to_dict() for f in result.findings], ensure_ascii=False)
    customers = demo.customers
    values = set(demo.pii_truth["value"])
    for col in ("name", "email", "phone", "address", "cn_resident_id"):
        values |= set(customers[col].dropna().astype(str))
    leaked = sorted(v for v in values if v in blob)
    assert not leaked, leaked[:10]
