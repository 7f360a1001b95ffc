"""`crm-audit init`: a starter audit.yaml for a CSV, with guessed column roles to review."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from audit.core.errors import AuditInputError, ErrorItem
from audit.reporters.atomic import write_atomic

_PROTECTED = re.compile(r"(^|_)(gender|sex|age|race|ethnic\w*|religio\w*|nationality|disab\w*|marital\w*|senior\w*|pregnan\w*)($|_)", re.I)
_TARGET = re.compile(r"^(churn\w*|target|label|y|outcome|converted|purchased?|default)$", re.I)
_QI = re.compile(r"(zip|postcode|postal|city|region|province|birth|dob|age|gender|sex)", re.I)
_DIRECT = re.compile(r"(name|email|e_mail|phone|mobile|tel|address|ssn|passport|id_?card|resident)", re.I)
_TIME = re.compile(r"(date|time|_at$|_on$|timestamp)", re.I)


def guess_roles(frame: pd.DataFrame) -> tuple[dict[str, object], list[str], list[str]]:
    review: list[str] = []
    cols = [str(c) for c in frame.columns]
    roles: dict[str, object] = {}
    def distinct_share(c: str) -> float:
        return float(frame[c].nunique(dropna=True)) / max(1, len(frame))

    id_candidates = [c for c in cols if re.search(r"(^id$|_id$|id$)", c, re.I) and distinct_share(c) >= 0.95]
    if id_candidates:
        roles["id"] = id_candidates[0]
        dupes = int(frame[id_candidates[0]].duplicated().sum())
        review.append(f"id column guessed as {id_candidates[0]!r} (name ends in id, {distinct_share(id_candidates[0]):.0%} distinct values" + (f"; {dupes} repeated ids: see dq.duplicates)" if dupes else ")"))
    else:
        review.append("no id column found: set roles.id so findings can name rows")
    protected = [c for c in cols if _PROTECTED.search(c)]
    roles["protected"] = protected
    review.append(f"protected attributes guessed from names: {protected or 'none'}; add any others (they drive every fairness check)")
    targets = [c for c in cols if _TARGET.match(c)]
    if targets:
        roles["target"] = targets[0]
        review.append(f"target guessed as {targets[0]!r}")
    text = [c for c in cols if frame[c].dtype == object and frame[c].dropna().astype(str).str.len().mean() > 40]
    roles["text"] = text
    if text:
        review.append(f"free-text columns guessed (long strings): {text}")
    roles["quasi_identifiers"] = [c for c in cols if _QI.search(c) and c not in text]
    roles["timestamps"] = [c for c in cols if _TIME.search(c)]
    direct = [c for c in cols if _DIRECT.search(c) and distinct_share(c) > 0.5]
    if direct:
        review.append(f"columns that look like direct identifiers (keep them out of model features): {direct}")
    return roles, review, direct


def write_starter(data: str, out: str, *, force: bool = False) -> tuple[Path, list[str]]:
    src = Path(data)
    if not src.exists():
        raise AuditInputError(ErrorItem(file=data, message="data file not found", hint="give the path of a CSV file"))
    target = Path(out)
    if target.exists() and not force:
        raise AuditInputError(ErrorItem(file=out, message="file exists", hint="use --force to overwrite, or --out another path"))
    try:
        frame = pd.read_csv(src, nrows=5000)
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=data, message=f"cannot read as CSV: {exc}")) from None
    if frame.empty:
        raise AuditInputError(ErrorItem(file=data, message="the CSV has no rows"))
    roles, review, direct = guess_roles(frame)
    rel = Path(data).resolve()
    try:
        rel = rel.relative_to(target.resolve().parent)
    except ValueError:
        pass
    name = re.sub(r"\W+", "_", src.stem).strip("_") or "data"
    features = [c for c in map(str, frame.columns) if c not in (roles.get("id"), roles.get("target")) and c not in roles["text"] and c not in direct]
    cfg: dict[str, object] = {
        "project": {"name": f"{name} CRM", "version": "", "owner": ""},
        "datasets": {name: {"source": {"path": str(rel)}, "roles": roles}},
        "policies": ["default"],
    }
    if roles.get("target"):
        cfg["models"] = [
            {
                "name": f"{name}_lr",
                "kind": "classifier",
                "source": "train",
                "algorithm": "logistic_regression",
                "dataset": name,
                "target": roles["target"],
                "features": [c for c in features if c not in roles["protected"]],
                "purpose": "describe what the model decides and for whom",
            }
        ]
        review.append("a logistic-regression model on the non-identifying, non-protected columns was proposed: adjust features and purpose")
    header = "# Starter audit.yaml written by `crm-audit init`.\n# REVIEW every guess below before relying on the audit:\n" + "".join(f"#  - {r}\n" for r in review)
    write_atomic(target, header + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    return target, review
