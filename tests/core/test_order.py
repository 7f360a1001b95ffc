"""Run order from declared provides/requires, and the rules that keep the declarations honest."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import audit
from audit.checks import load_builtin_checks
from audit.core.check import REGISTRY, CheckMeta
from audit.core.context import FACT_NAMES, Facts
from audit.core.order import OrderError, run_order, validate
from audit.core.types import Category, Provenance, Severity, SubjectKind

load_builtin_checks()
PACKAGE = Path(audit.__file__).parent


@dataclass
class M:
    id: str
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


def test_providers_run_first_then_by_id():
    metas = [M("a.reader", requires=("x",)), M("z.writer", provides=("x",)), M("b.other")]
    assert run_order(metas) == ["b.other", "z.writer", "a.reader"]


def test_several_providers_all_run_before_the_reader():
    metas = [M("c", requires=("x",)), M("b", provides=("x",)), M("d", provides=("x",))]
    assert run_order(metas) == ["b", "d", "c"]


def test_a_check_may_read_what_it_provides_itself():
    assert run_order([M("a", provides=("x",), requires=("x",))]) == ["a"]


def test_cycle_is_an_error_naming_the_checks():
    metas = [M("a", provides=("x",), requires=("y",)), M("b", provides=("y",), requires=("x",)), M("c")]
    with pytest.raises(OrderError, match=r"cycle: a -> b -> a"):
        run_order(metas)


def test_required_fact_without_provider_is_an_error():
    with pytest.raises(OrderError, match="'a' requires 'x', which no registered check provides"):
        validate([M("a", requires=("x",))])


def _meta(**kw):
    return CheckMeta(
        id="t.check",
        title="t",
        category=Category.GOVERNANCE,
        severity=Severity.LOW,
        subjects=(SubjectKind.SYSTEM,),
        regulations=(),
        provenance=Provenance.TOOL,
        formula="",
        default_threshold="",
        **kw,
    )


def test_unknown_fact_is_an_error_at_definition():
    with pytest.raises(OrderError, match=r"requires unknown fact\(s\) flagged_proxy;"):
        _meta(requires=("flagged_proxy",))


def test_stage_numbers_are_refused():
    with pytest.raises(OrderError, match="provides/requires"):
        _meta(extra={"stage": 10})


def test_registered_checks_have_providers_and_no_cycle():
    REGISTRY.validate()
    order = REGISTRY.run_order(REGISTRY.ids())
    for cid in order:
        for fact in REGISTRY.get(cid).meta.requires:
            for provider in (c.meta.id for c in REGISTRY.all() if fact in c.meta.provides and c.meta.id != cid):
                assert order.index(provider) < order.index(cid), (provider, cid)


def test_every_fact_has_a_provider():
    provided = {f for c in REGISTRY.all() for f in c.meta.provides}
    assert provided == FACT_NAMES, f"facts no check provides: {sorted(FACT_NAMES - provided)}"


def _sources():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_check_uses_stage_numbers():
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg == "extra" and isinstance(kw.value, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "stage" for k in kw.value.keys):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    for cls in REGISTRY.all():
        if "stage" in cls.meta.extra:
            offenders.append(cls.meta.id)
    assert not offenders, "declare provides/requires instead of a stage number: " + ", ".join(offenders)


def test_no_string_keyed_blackboard_on_the_context():
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "shared" and isinstance(node.value, ast.Name) and node.value.id == "ctx":
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, "use a typed field of AuditContext or Facts instead of ctx.shared: " + ", ".join(offenders)




def test_facts_read_by_a_check_are_declared():
    """A check module that reads ``ctx.facts.X`` declares X as provided or required by one of its checks."""
    by_module: dict[str, set[str]] = {}
    for cls in REGISTRY.all():
        by_module.setdefault(cls.__module__, set()).update(cls.meta.provides, cls.meta.requires)
    missing = []
    for module, declared in by_module.items():
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "facts":
                if node.attr not in declared:
                    missing.append(f"{module}:{node.lineno} uses ctx.facts.{node.attr}")
    assert not missing, "declare these in CheckMeta.provides/requires: " + "; ".join(missing)
    assert set(Facts.__dataclass_fields__) == FACT_NAMES
