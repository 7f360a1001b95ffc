"""Load, validate and resolve policy packs (with ``extends``), reporting every error at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audit.core.check import REGISTRY, CheckParams
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.types import Provenance, Severity
from audit.core.yamlio import format_loc, load_yaml, pydantic_errors
from audit.policy.models import Attestation, PolicyPack, Waiver
from audit.resources import policies_dir

MAX_EXTENDS_DEPTH = 10


@dataclass(frozen=True)
class ResolvedCheck:
    id: str
    params: CheckParams
    severity: Severity
    provenance: Provenance
    regulations: tuple[str, ...]
    subjects: tuple[str, ...] | None
    source: str  # file that set this entry last


@dataclass
class ResolvedPolicy:
    packs: list[dict[str, Any]]  # metadata + file + sha256 of every pack file, root last
    checks: dict[str, ResolvedCheck]
    waivers: list[tuple[Waiver, str]]
    attestations: dict[str, tuple[Attestation, str]]
    fail_on: Severity | None = None
    min_group_size: int | None = None
    files: list[str] = field(default_factory=list)

    def waiver_for(self, check_id: str, subject: str, today: date) -> tuple[Waiver | None, Waiver | None]:
        """Return (active waiver, expired waiver) matching a finding."""
        active = expired = None
        for w, _src in self.waivers:
            if w.check != check_id or not fnmatchcase(subject, w.subject):
                continue
            if w.expires >= today:
                active = active or w
            else:
                expired = expired or w
        return active, expired


def available_packs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(policies_dir().glob("*.yaml"))}


def locate(name_or_path: str, *, relative_to: Path | None = None) -> Path:
    """A pack name ('gdpr') or a path to a YAML file. Never falls back to a default."""
    candidates = []
    p = Path(name_or_path)
    if relative_to is not None and not p.is_absolute():
        candidates.append(relative_to / p)
    candidates.append(p)
    for c in candidates:
        if c.is_file():
            return c
    if p.suffix in (".yaml", ".yml") or "/" in name_or_path or "\\" in name_or_path:
        raise AuditInputError(
            ErrorItem(file=name_or_path, message="policy file not found", hint="check the path; no default is used")
        )
    packs = available_packs()
    if name_or_path in packs:
        return packs[name_or_path]
    raise AuditInputError(
        ErrorItem(
            file=name_or_path,
            message="unknown policy pack",
            hint="built-in packs: " + ", ".join(sorted(packs)) + "; or give a path to a YAML file",
        )
    )


def _parse_pack(path: Path) -> tuple[PolicyPack | None, list[ErrorItem], Any]:
    doc = load_yaml(path, what="policy file")
    if not isinstance(doc.data, dict):
        return None, [ErrorItem(file=doc.file, line=1, message="a policy must be a YAML mapping with 'metadata' and 'checks'")], doc
    errors: list[ErrorItem] = []
    pack: PolicyPack | None = None
    try:
        pack = PolicyPack.model_validate(doc.data)
    except ValidationError as exc:
        exc._audit_model = PolicyPack  # type: ignore[attr-defined]
        errors.extend(pydantic_errors(exc, doc))
    # check ids and params are validated from the raw document too, so every error shows at once
    raw_checks = doc.data.get("checks") if isinstance(doc.data.get("checks"), list) else []
    for i, raw in enumerate(raw_checks):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            params = raw.get("params") if isinstance(raw.get("params"), dict) else {}
            errors.extend(_validate_entry(raw["id"], params, i, doc))
    raw_waivers = doc.data.get("waivers") if isinstance(doc.data.get("waivers"), list) else []
    for i, raw in enumerate(raw_waivers):
        if isinstance(raw, dict) and isinstance(raw.get("check"), str) and raw["check"] not in REGISTRY:
            errors.append(_unknown_check(raw["check"], ("waivers", i, "check"), doc))
    errors.sort(key=lambda e: e.line or 0)
    return (pack if not errors else None), errors, doc


def _unknown_check(check_id: str, loc: tuple[Any, ...], doc: Any) -> ErrorItem:
    suggestion = REGISTRY.suggest(check_id)
    hint = f"did you mean {suggestion!r}?" if suggestion else "run `crm-audit checks` to list check ids"
    return ErrorItem(file=doc.file, line=doc.line_of(loc), path=format_loc(loc), message=f"unknown check id {check_id!r}", hint=hint)


def _validate_entry(check_id: str, params: dict[str, Any], i: int, doc: Any) -> list[ErrorItem]:
    if check_id not in REGISTRY:
        return [_unknown_check(check_id, ("checks", i, "id"), doc)]
    params_model = REGISTRY.get(check_id).Params
    try:
        params_model.model_validate(params)
    except ValidationError as exc:
        exc._audit_model = params_model  # type: ignore[attr-defined]
        items = pydantic_errors(exc, doc, prefix=("checks", i, "params"))
        fixed = []
        for it in items:
            if it.hint.startswith("allowed keys") or not it.hint:
                allowed = ", ".join(sorted(params_model.model_fields)) or "(none)"
                it = ErrorItem(file=it.file, line=it.line, path=it.path, message=f"{it.message} for check {check_id}", hint=f"allowed params: {allowed}")
            fixed.append(it)
        return fixed
    return []


def validate_files(paths: list[str]) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    for p in paths:
        try:
            errors.extend(_collect(Path(p), [], set(), 0))
        except AuditInputError as exc:
            errors.extend(exc.items)
    return errors


def _collect(path: Path, out: list[tuple[PolicyPack, Path]], seen: set[Path], depth: int) -> list[ErrorItem]:
    real = path.resolve()
    if real in seen:
        return [ErrorItem(file=str(path), message="circular 'extends'", hint="remove the cycle")]
    if depth > MAX_EXTENDS_DEPTH:
        return [ErrorItem(file=str(path), message="'extends' nested too deeply")]
    seen = seen | {real}
    pack, errors, doc = _parse_pack(path)
    if pack is None:
        return errors
    for j, parent in enumerate(pack.extends):
        try:
            ppath = locate(parent, relative_to=path.parent)
        except AuditInputError as exc:
            errors.extend(
                ErrorItem(file=doc.file, line=doc.line_of(("extends", j)), path=f"extends[{j}]", message=f"cannot resolve {parent!r}: {it.message}", hint=it.hint)
                for it in exc.items
            )
            continue
        errors.extend(_collect(ppath, out, seen, depth + 1))
    out.append((pack, path))
    return errors


def load_policies(names: list[str], *, relative_to: Path | None = None) -> ResolvedPolicy:
    """Resolve one or more packs (later ones override earlier ones) into a single policy."""
    if not names:
        raise AuditInputError(ErrorItem(file="<command line>", message="no policy given", hint="use --policy NAME or list policies in audit.yaml"))
    ordered: list[tuple[PolicyPack, Path]] = []
    errors: list[ErrorItem] = []
    for n in names:
        try:
            path = locate(n, relative_to=relative_to)
        except AuditInputError as exc:
            errors.extend(exc.items)
            continue
        errors.extend(_collect(path, ordered, set(), 0))
    if errors:
        raise AuditInputError(errors)
    checks: dict[str, ResolvedCheck] = {}
    waivers: list[tuple[Waiver, str]] = []
    attestations: dict[str, tuple[Attestation, str]] = {}
    packs_meta: list[dict[str, Any]] = []
    fail_on = None
    min_group = None
    seen_files: set[str] = set()
    for pack, path in ordered:
        key = str(path.resolve())
        if key in seen_files:
            continue
        seen_files.add(key)
        packs_meta.append(
            {
                **pack.metadata.model_dump(),
                "file": str(path),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
        fail_on = pack.settings.fail_on or fail_on
        min_group = pack.settings.min_group_size or min_group
        for entry in pack.checks:
            cls = REGISTRY.get(entry.id)
            if not entry.enabled:
                checks.pop(entry.id, None)
                continue
            prev = checks.get(entry.id)
            merged = dict(prev.params.model_dump()) if prev else {}
            merged.update(entry.params)
            params = cls.Params.model_validate(merged)
            checks[entry.id] = ResolvedCheck(
                id=entry.id,
                params=params,
                severity=entry.severity or (prev.severity if prev else cls.meta.severity),
                provenance=entry.provenance or (prev.provenance if prev else cls.meta.provenance),
                regulations=tuple(dict.fromkeys([*(prev.regulations if prev else cls.meta.regulations), *entry.regulations])),
                subjects=tuple(entry.subjects) if entry.subjects is not None else (prev.subjects if prev else None),
                source=str(path),
            )
        waivers.extend((w, str(path)) for w in pack.waivers)
        for a in pack.attestations:
            attestations[a.id] = (a, str(path))
    if min_group is not None:
        # the pack-wide minimum group size applies wherever a check's own value was left at its default
        for cid, rc in list(checks.items()):
            fields = type(rc.params).model_fields
            if "min_group_size" in fields and getattr(rc.params, "min_group_size") == fields["min_group_size"].default:
                checks[cid] = replace(rc, params=type(rc.params).model_validate({**rc.params.model_dump(), "min_group_size": min_group}))
    return ResolvedPolicy(
        packs=packs_meta,
        checks=checks,
        waivers=waivers,
        attestations=attestations,
        fail_on=fail_on,
        min_group_size=min_group,
        files=[m["file"] for m in packs_meta],
    )


def policy_json_schema() -> dict[str, Any]:
    schema = PolicyPack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "crm-audit policy pack"
    return schema
