"""Check base class, metadata, parameter models and the explicit registry.

A check *measures*; the policy's threshold and comparator *judge*. Metadata is a
class attribute so the registry, the catalogue and SARIF rules can be built
without running anything.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from audit.core.context import FACT_NAMES
from audit.core.finding import Outcome, Scalar
from audit.core.order import OrderError, check_facts, providers, run_order, validate
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind

if TYPE_CHECKING:
    from audit.core.context import AuditContext, Subject

DUPLICATE_CHECK_ID = "check id {check_id!r} is already registered by {other}"
UNKNOWN_CHECK_ID = "unknown check id {check_id!r}"
STAGE_REMOVED = "check {check_id!r}: run order comes from CheckMeta.provides/requires, not extra['stage']"


class CheckParams(BaseModel):
    """Base of every check's parameter model: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    category: Category
    severity: Severity
    subjects: tuple[SubjectKind, ...]
    regulations: tuple[str, ...]
    provenance: Provenance
    formula: str
    default_threshold: str
    mode: Literal["A", "H", "M"] = "A"
    help: str = ""
    fast: bool = True
    #: facts (fields of ``audit.core.context.Facts``) this check writes for later checks
    provides: tuple[str, ...] = ()
    #: facts this check reads: it runs after every check of the run that provides them
    requires: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "stage" in self.extra:
            raise OrderError(STAGE_REMOVED.format(check_id=self.id))
        check_facts(self, FACT_NAMES)

    @property
    def anchor(self) -> str:
        return self.id.replace(".", "-").replace("_", "-")


class Check:
    """Subclass, set ``meta`` and ``Params``, implement :meth:`evaluate`."""

    meta: ClassVar[CheckMeta]
    Params: ClassVar[type[CheckParams]] = CheckParams

    def applies(self, subject: Subject, params: Any, ctx: AuditContext) -> bool:
        """Whether this subject is one the check measures (e.g. a transcript table); default: all."""
        return True

    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        raise NotImplementedError

    # helpers ---------------------------------------------------------------
    def judge(
        self,
        subject: str,
        observed: float | int | None,
        *,
        threshold: float | int,
        op: Literal[">=", "<=", ">", "<", "=="],
        what: str = "observed",
        evidence: dict[str, Any] | None = None,
        severity: Severity | None = None,
        note: str = "",
    ) -> Outcome:
        """Compare ``observed`` with ``threshold`` and write the Evidently-style message."""
        return judge(
            self.meta,
            subject,
            observed,
            threshold=threshold,
            op=op,
            what=what,
            evidence=evidence,
            severity=severity,
            note=note,
        )

    def skip(self, subject: str, reason: str, evidence: dict[str, Any] | None = None) -> Outcome:
        return Outcome(subject=subject, status=Status.SKIPPED, message=reason, evidence=evidence or {})


_OPS: dict[str, tuple[Callable[[Any, Any], bool], str, str]] = {
    ">=": (operator.ge, "minimum", "<"),
    ">": (operator.gt, "minimum (exclusive)", "<="),
    "<=": (operator.le, "maximum", ">"),
    "<": (operator.lt, "maximum (exclusive)", ">="),
    "==": (operator.eq, "required", "!="),
}


def fmt(value: Scalar) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def judge(
    meta: CheckMeta,
    subject: str,
    observed: float | int | None,
    *,
    threshold: float | int,
    op: Literal[">=", "<=", ">", "<", "=="],
    what: str = "observed",
    evidence: dict[str, Any] | None = None,
    severity: Severity | None = None,
    note: str = "",
) -> Outcome:
    fn, label, negation = _OPS[op]
    tail = f" ({meta.provenance.phrase})"
    if observed is None or (isinstance(observed, float) and observed != observed):
        return Outcome(
            subject=subject,
            status=Status.SKIPPED,
            message=f"{what} could not be computed{(': ' + note) if note else ''}",
            threshold=threshold,
            evidence=evidence or {},
        )
    passed = bool(fn(observed, threshold))
    if passed:
        msg = f"{what} {fmt(observed)} {op} {label} {fmt(threshold)}{tail}"
    else:
        msg = f"{what} {fmt(observed)} {negation} {label} {fmt(threshold)}{tail}"
    if note:
        msg += f"; {note}"
    return Outcome(
        subject=subject,
        status=Status.PASS if passed else Status.FAIL,
        message=msg,
        observed=observed,
        threshold=threshold,
        evidence=evidence or {},
        severity=severity,
    )


class Registry:
    """Explicit registry: a decorator fills a dict and refuses duplicate ids."""

    def __init__(self) -> None:
        self._checks: dict[str, type[Check]] = {}

    def register(self, cls: type[Check]) -> type[Check]:
        cid = cls.meta.id
        if cid in self._checks:
            raise ValueError(DUPLICATE_CHECK_ID.format(check_id=cid, other=self._checks[cid].__qualname__))
        self._checks[cid] = cls
        return cls

    def get(self, check_id: str) -> type[Check]:
        try:
            return self._checks[check_id]
        except KeyError:
            raise KeyError(UNKNOWN_CHECK_ID.format(check_id=check_id)) from None

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def ids(self) -> list[str]:
        return sorted(self._checks)

    def all(self) -> list[type[Check]]:
        return [self._checks[i] for i in self.ids()]

    def validate(self) -> None:
        """Raise :class:`OrderError` when a required fact has no provider or dependencies form a cycle."""
        validate(c.meta for c in self._checks.values())

    def run_order(self, check_ids: Iterable[str]) -> list[str]:
        """The given checks in dependency order (providers first, then by id)."""
        return run_order(self.get(cid).meta for cid in check_ids)

    def missing_providers(self, check_ids: Iterable[str]) -> dict[str, list[str]]:
        """Fact -> registered providers absent from ``check_ids``, for facts the given checks require."""
        chosen = set(check_ids)
        prov = providers(c.meta for c in self._checks.values())
        out: dict[str, list[str]] = {}
        for cid in sorted(chosen):
            for fact in self.get(cid).meta.requires:
                absent = [p for p in prov.get(fact, ()) if p not in chosen and p != cid]
                if absent and not any(p in chosen for p in prov.get(fact, ())):
                    out.setdefault(fact, absent)
        return out

    def suggest(self, check_id: str) -> str | None:
        import difflib

        close = difflib.get_close_matches(check_id, self.ids(), n=1, cutoff=0.5)
        return close[0] if close else None


REGISTRY = Registry()
register = REGISTRY.register


def meta_dict(meta: CheckMeta, params: type[CheckParams]) -> dict[str, Any]:
    defaults = {k: (f.default if f.default is not None else None) for k, f in params.model_fields.items()}
    return {
        "id": meta.id,
        "title": meta.title,
        "category": meta.category.value,
        "severity": meta.severity.value,
        "subjects": [s.value for s in meta.subjects],
        "regulations": list(meta.regulations),
        "threshold_provenance": meta.provenance.value,
        "formula": meta.formula,
        "default_threshold": meta.default_threshold,
        "mode": meta.mode,
        "fast": meta.fast,
        "help": meta.help,
        "params": {k: _plain_default(v) for k, v in defaults.items()},
    }


def _plain_default(v: Any) -> Any:
    from audit.core.finding import to_plain

    try:
        return to_plain(v)
    except Exception:  # pragma: no cover - defensive
        return str(v)
