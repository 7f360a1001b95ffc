"""Every shipped policy pack validates, maps its articles, and covers the registry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from audit.checks import load_builtin_checks
from audit.core.check import REGISTRY
from audit.core.types import Severity, Status
from audit.policy.loader import available_packs, load_policies, validate_files

ROOT = Path(__file__).resolve().parents[2]
load_builtin_checks()

PACKS = ["default", "gdpr", "eu-ai-act", "pipl", "ccpa", "ecoa", "ci-gate", "monitoring"]

# articles each pack must map, in findings or attestations
MUST_COVER = {
    "gdpr": ["GDPR Art. 5(1)(c)", "GDPR Art. 5(1)(d)", "GDPR Art. 5(1)(e)", "GDPR Art. 9(1)", "GDPR Art. 15(1)(h)", "GDPR Art. 22(3)", "GDPR Art. 25(1)", "GDPR Art. 32(1)", "GDPR Art. 35(1)"],
    "eu-ai-act": ["EU AI Act Art. 10(2)(f)", "EU AI Act Art. 10(3)", "EU AI Act Art. 12", "EU AI Act Art. 13(3)(b)(ii)", "EU AI Act Art. 15(1)", "EU AI Act Art. 50(1)", "EU AI Act Art. 86(1)", "EU AI Act Annex III"],
    "pipl": ["PIPL Art. 24(1)", "PIPL Art. 24(2)", "PIPL Art. 24(3)", "PIPL Art. 28", "PIPL Art. 29", "PIPL Art. 51", "PIPL Art. 55", "PIPL Art. 56"],
    "ccpa": ["Cal. Civ. Code 1798.140(ae)", "Cal. Civ. Code 1798.121", "Cal. Civ. Code 1798.185(a)(15)"],
    "ecoa": ["Reg B 12 CFR 1002.9(b)(2)", "29 CFR 1607.4(D)", "ECOA 15 U.S.C. 1691(d)"],
    "default": ["GDPR Art. 5(1)(c)", "EU AI Act Art. 50(1)", "PIPL Art. 24(1)"],
    "ci-gate": ["GDPR Art. 5(1)(d)"],
    "monitoring": ["EU AI Act Art. 12(1)", "EU AI Act Art. 19(1)", "EU AI Act Art. 26(6)", "EU AI Act Art. 72(2)", "GDPR Art. 5(1)(d)", "GDPR Art. 22"],
}


def test_shipped_packs_are_the_expected_set():
    assert set(available_packs()) == set(PACKS)


@pytest.mark.parametrize("name", PACKS)
def test_pack_validates(name):
    assert validate_files([str(available_packs()[name])]) == []


def test_every_registered_check_is_in_a_pack_and_the_catalogue():
    in_packs: set[str] = set()
    for name in PACKS:
        in_packs |= set(load_policies([name]).checks)
    missing = set(REGISTRY.ids()) - in_packs
    assert not missing, f"checks in no policy pack: {sorted(missing)}"
    catalogue = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    absent = [cid for cid in REGISTRY.ids() if f"### `{cid}`" not in catalogue]
    assert not absent, f"checks missing from docs/checks.md (run `crm-audit catalogue`): {absent}"


def test_every_registered_check_has_a_test():
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p.name != "test_packs.py")
    untested = [cid for cid in REGISTRY.ids() if cid not in corpus]
    assert not untested, f"checks with no test naming them: {untested}"


def test_jurisdiction_packs_never_present_tool_defaults_as_law():
    for name in PACKS:
        for cid, rc in load_policies([name]).checks.items():
            if rc.provenance.value == "law":
                assert cid in {"nlp.chatbot_disclosure", "pii.cn_minor", "pii.special_category", "rec.non_personalised_option"}, (name, cid)


def test_ci_gate_is_fast_subset_failing_on_high():
    gate = load_policies(["ci-gate"])
    assert gate.fail_on is Severity.HIGH
    assert "explain.stability" not in gate.checks and "dq.missingness" in gate.checks
    slow_refits = {"explain.stability", "proxy.redundant_encoding", "nlp.pii_in_training_text"}
    assert not slow_refits & set(gate.checks)


@pytest.fixture(scope="module")
def demo_ctx():
    from audit.demo import demo_context

    ctx, _ = demo_context(n_customers=1500, seed=7)
    return ctx


@pytest.mark.slow
@pytest.mark.parametrize("name", PACKS)
def test_pack_on_demo_covers_its_articles(demo_ctx, name):
    from audit.runner import build_result

    pol = load_policies([name])
    res = build_result(demo_ctx, pol, fail_on=pol.fail_on or Severity.HIGH, today=date(2026, 11, 24))
    covered = {r for f in res.findings for r in f.regulations} | {r for a in res.attestations for r in a["regulations"]}
    missing = [a for a in MUST_COVER[name] if a not in covered]
    assert not missing, f"{name}: articles not covered: {missing}"
    assert not [f for f in res.findings if f.status is Status.ERROR], [f.message for f in res.findings if f.status is Status.ERROR]
    assert {f.check_id for f in res.findings} <= set(pol.checks)
