"""Run one registered check through the runner, as the audit would, for the check tests."""

from __future__ import annotations

from typing import Any

from audit.core.check import REGISTRY
from audit.core.context import AuditContext
from audit.core.finding import Finding
from audit.policy.loader import ResolvedCheck
from audit.runner import _run_one


def findings(check_id: str, ctx: AuditContext, **params: Any) -> dict[str, Finding]:
    """Run one registered check through the runner over every applicable subject."""
    cls = REGISTRY.get(check_id)
    rc = ResolvedCheck(
        id=check_id,
        params=cls.Params(**params),
        severity=cls.meta.severity,
        provenance=cls.meta.provenance,
        regulations=cls.meta.regulations,
        subjects=None,
        source="test",
    )
    check = cls()
    out: dict[str, Finding] = {}
    for kind in cls.meta.subjects:
        for subject in ctx.subjects(kind):
            if not check.applies(subject, rc.params, ctx):
                continue
            for f in _run_one(check, rc, subject, ctx):
                assert f.check_id == check_id
                assert f.subject not in out, f"duplicate subject {f.subject}"
                out[f.subject] = f
    return out
