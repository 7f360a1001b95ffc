"""Load-time rules for the `models:` list, read from the model-kind table.

Every combination the table does not list (a recommender from a predictions
file, a text classifier trained with k-means, a treatment mapping on a
classifier) is refused here, with the file and line, before any data is read.
"""

from __future__ import annotations

from typing import Any

from audit.config.models import AuditConfig, DatasetConfig, ModelConfig
from audit.core.errors import ErrorItem
from audit.core.kinds import KINDS, ModelKind
from audit.core.yamlio import LocatedYAML

# model keys read only for some kinds (and sources); anything else set explicitly is an error
KIND_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "users": (("recommender", "text_classifier"), None),
    "items": (("recommender",), None),
    "k": (("recommender",), None),
    "consent_column": (("recommender",), ("train",)),
    "language": (("text_classifier",), None),
    "text": (("text_classifier",), None),
    "rfm": (("segmentation",), None),
    "treatments": (("segmentation",), None),
    "target": (("classifier", "regressor", "text_classifier"), None),
    "threshold": (("classifier",), None),
    "adverse_outcome": (("classifier",), None),
    "trusted_types": (("classifier", "regressor", "segmentation", "text_classifier"), ("skops",)),
    "test_size": (("classifier", "regressor", "recommender", "text_classifier"), ("train", "skops", "pickle")),
}


def supported_text(kind: ModelKind) -> str:
    return "; ".join(f"{name} ({spec.summary})" for name, spec in kind.sources.items())


def check_models(cfg: AuditConfig, doc: LocatedYAML) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    names: set[str] = set()
    for i, m in enumerate(cfg.models):
        if m.name in names:
            errors.append(_item(doc, i, "name", f"duplicate model name {m.name!r}"))
        names.add(m.name)
        errors.extend(_check_one(cfg, doc, i, m))
    return errors


def _item(doc: LocatedYAML, i: int, key: str | None, message: str, hint: str = "") -> ErrorItem:
    loc: tuple[str | int, ...] = ("models", i, key) if key else ("models", i)
    return ErrorItem(file=doc.file, line=doc.line_of(loc), path=f"models[{i}]" + (f".{key}" if key else ""), message=message, hint=hint)


def _dataset_ref(cfg: AuditConfig, doc: LocatedYAML, i: int, key: str, name: str | None) -> tuple[DatasetConfig | None, list[ErrorItem]]:
    if name is None:
        return None, []
    if name not in cfg.datasets:
        return None, [_item(doc, i, key, f"unknown dataset {name!r}", "declared datasets: " + (", ".join(cfg.datasets) or "(none)"))]
    return cfg.datasets[name], []


def _check_one(cfg: AuditConfig, doc: LocatedYAML, i: int, m: ModelConfig) -> list[ErrorItem]:
    kind = KINDS[m.kind]
    spec = kind.source(m.source)
    if spec is None:
        return [
            _item(
                doc,
                i,
                "source",
                f"a {m.kind} cannot come from source {m.source!r}",
                f"sources supported for kind {m.kind}: {supported_text(kind)}",
            )
        ]
    errors: list[ErrorItem] = []
    given = m.model_fields_set
    for key, (kinds, sources) in KIND_KEYS.items():
        if key not in given:
            continue
        if m.kind not in kinds:
            errors.append(_item(doc, i, key, f"{key!r} is not read for a {m.kind}", f"it applies to kind {' and '.join(kinds)}; remove it"))
        elif sources is not None and m.source not in sources:
            errors.append(_item(doc, i, key, f"{key!r} is not read for source {m.source!r}", f"it applies to source {' and '.join(sources)}; remove it"))
    if spec.needs_path and not m.path:
        cols = ", ".join(spec.file_columns) + (f" and optionally {', '.join(spec.optional_columns)}" if spec.optional_columns else "")
        what = f"a CSV with columns {cols}" if spec.file_columns else "the model file"
        errors.append(_item(doc, i, None, f"source {m.source!r} needs 'path'", f"path: {what}"))
    if not spec.needs_path and m.path:
        errors.append(_item(doc, i, "path", f"source {m.source!r} reads no file, but 'path' is set", "remove path, or choose the source that reads it: " + ", ".join(n for n, s in kind.sources.items() if s.needs_path)))
    if m.source == "train" and spec.algorithms and m.algorithm is not None and m.algorithm not in spec.algorithms:
        errors.append(_item(doc, i, "algorithm", f"unknown {m.kind} algorithm {m.algorithm!r}", "choose from " + ", ".join(spec.algorithms)))
    ds, errs = _dataset_ref(cfg, doc, i, "dataset", m.dataset)
    errors += errs
    users, errs = _dataset_ref(cfg, doc, i, "users", m.users)
    errors += errs
    items, errs = _dataset_ref(cfg, doc, i, "items", m.items)
    errors += errs
    if ds is None:
        return errors
    roles = ds.roles
    if m.kind in ("classifier", "regressor") and m.source == "train" and not (m.target or roles.target):
        errors.append(_item(doc, i, None, "a model trained from the stack needs 'target' (here or in the dataset roles)"))
    if m.kind == "recommender":
        missing = [r for r in ("user", "item", "rating") if not getattr(roles, r)]
        if missing:
            errors.append(
                _item(doc, i, "dataset", f"dataset {m.dataset!r} is read as ratings but its roles lack {', '.join(missing)}", "declare roles: {user: <column>, item: <column>, rating: <column>}")
            )
        algorithm = m.algorithm or (spec.default_algorithm if m.source == "train" else None)
        if algorithm in ("content", "hybrid") and items is None:
            errors.append(_item(doc, i, "items", f"algorithm {algorithm!r} needs an items dataset", "add items: <dataset with roles id, category and/or price>"))
        for key, ref in (("users", users), ("items", items)):
            if ref is not None and not ref.roles.id:
                errors.append(_item(doc, i, key, f"dataset {getattr(m, key)!r} is joined on its id column, but declares no roles.id", "declare roles: {id: <column>}"))
        if items is not None and m.algorithm in ("content", "hybrid") and not (items.roles.category or items.roles.price):
            errors.append(_item(doc, i, "items", f"content-based recommendations need item features, but dataset {m.items!r} declares neither roles.category nor roles.price", "declare roles: {category: <column>, price: <column>}"))
        if m.consent_column and users is None:
            errors.append(_item(doc, i, "consent_column", "consent_column is read from the users dataset, but no 'users' is set"))
    if m.kind == "text_classifier":
        if not roles.text:
            errors.append(_item(doc, i, "dataset", f"dataset {m.dataset!r} declares no text column", "declare roles: {text: [<column>]}"))
        elif m.text is not None and m.text not in roles.text:
            errors.append(_item(doc, i, "text", f"{m.text!r} is not among the text columns of {m.dataset!r}", "choose from " + ", ".join(roles.text)))
        elif m.text is None and len(roles.text) > 1:
            errors.append(_item(doc, i, None, f"dataset {m.dataset!r} has several text columns; say which one the model reads", "add text: " + roles.text[0]))
        if m.source == "train" and not (m.target or roles.target):
            errors.append(_item(doc, i, None, "a text classifier trained by the audit needs 'target' (here or in the dataset roles)"))
        if m.source == "predictions" and not roles.id:
            errors.append(_item(doc, i, "dataset", f"predictions are joined to dataset {m.dataset!r} by id, but it declares no roles.id", "declare roles: {id: <column>}"))
        if users is not None:
            if not roles.user:
                errors.append(_item(doc, i, "users", f"dataset {m.dataset!r} needs roles.user (the author's id) to join the users dataset"))
            if not users.roles.id:
                errors.append(_item(doc, i, "users", f"dataset {m.users!r} is joined on its id column, but declares no roles.id"))
    if m.kind == "segmentation":
        if not roles.id and (m.source == "assignments" or m.rfm is not None):
            errors.append(_item(doc, i, "dataset", f"dataset {m.dataset!r} needs roles.id (segments and RFM features are joined by customer id)"))
        if m.source != "assignments" and not (m.features or roles.features or m.rfm):
            errors.append(_item(doc, i, None, "a segmentation needs the features it clusters on", "add features: [..] or rfm: {dataset: transactions, customer: .., date: .., amount: ..}"))
        if m.rfm is not None:
            if m.source == "assignments":
                errors.append(_item(doc, i, "rfm", "rfm features are computed for clustering; with source 'assignments' the segments are already given", "remove rfm"))
            _, errs = _dataset_ref(cfg, doc, i, "rfm", m.rfm.dataset)
            errors += errs
    return errors


def describe_kinds() -> list[dict[str, Any]]:
    """Plain description of the table (for docs and `crm-audit kinds`)."""
    out = []
    for k in KINDS.values():
        out.append(
            {
                "kind": k.name,
                "description": k.description,
                "sources": {n: {"summary": s.summary, "algorithms": list(s.algorithms), "file_columns": list(s.file_columns), "optional_columns": list(s.optional_columns)} for n, s in k.sources.items()},
            }
        )
    return out
