"""Load and validate audit.yaml, then read the datasets it declares."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from audit.config.labels import apply_label_map
from audit.config.models import AuditConfig, DatasetConfig
from audit.config.reading import (
    DEFAULT_NA_VALUES,
    MIN_ROWS,
    ReadError,
    ReadRecord,
    apply_na_values,
    apply_value_labels,
    duplicate_names,
    read_csv_file,
    strip_whitespace,
)
from audit.core.context import ColumnRoles, Dataset
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.yamlio import LocatedYAML, load_yaml, pydantic_errors


def load_config(path: str | Path) -> tuple[AuditConfig, LocatedYAML]:
    doc = load_yaml(path, what="config file")
    if not isinstance(doc.data, dict):
        raise AuditInputError(ErrorItem(file=doc.file, line=1, message="audit.yaml must be a mapping with 'datasets' and 'models'"))
    try:
        cfg = AuditConfig.model_validate(doc.data)
    except ValidationError as exc:
        exc._audit_model = AuditConfig  # type: ignore[attr-defined]
        raise AuditInputError(pydantic_errors(exc, doc)) from None
    errors = _cross_check(cfg, doc)
    if errors:
        raise AuditInputError(errors)
    return cfg, doc


def _cross_check(cfg: AuditConfig, doc: LocatedYAML) -> list[ErrorItem]:
    errors = []
    if not cfg.datasets:
        errors.append(
            ErrorItem(
                file=doc.file, line=doc.line_of(("datasets",)), path="datasets",
                message="the config declares no dataset" + (" and no model" if not cfg.models else "") + ": there is nothing to audit",
                hint="declare at least one dataset under 'datasets:' (source and roles); see `crm-audit init --data FILE`",
            )
        )
    from audit.config.model_rules import check_models

    return errors + check_models(cfg, doc)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_frame(df: pd.DataFrame) -> str:
    """Content hash of an in-memory table (used for generated or SQL data)."""
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return h.hexdigest()


def _mask_url(url: str) -> str:
    return re.sub(r"//([^:/@]+):([^@]+)@", r"//\1:***@", url)


def read_dataset(name: str, dc: DatasetConfig, *, base: Path, config_file: str, targets: Sequence[str] = ()) -> Dataset:
    """Read one declared dataset and clean it the documented way (see ``audit.config.reading``).

    ``targets`` are further columns used as a model's target (``label_map`` applies to them too).
    """
    src = dc.source
    where = f"datasets.{name}.source"
    opts = src.options
    record = ReadRecord(format=src.resolved_format())
    try:
        if record.format == "sql":
            from sqlalchemy import create_engine, text

            if src.url:
                url = src.url
            else:
                p = (base / src.path).resolve() if src.path else None
                if p is None or not p.exists():
                    raise FileNotFoundError(str(p))
                url = f"sqlite:///{p}"
            engine = create_engine(url)
            with engine.connect() as conn:
                query = src.query or f'SELECT * FROM "{src.table}"'
                frame = pd.read_sql(text(query), conn)
            engine.dispose()
            display = _mask_url(url)
            digest = sha256_frame(frame) if not frame.columns.duplicated().any() else ""
        else:
            p = (base / str(src.path)).resolve()
            if not p.exists():
                raise FileNotFoundError(str(p))
            if p.is_dir():
                raise AuditInputError(ErrorItem(file=config_file, path=f"{where}.path", message=f"{src.path} is a folder, not a data file"))
            if record.format == "parquet":
                frame = pd.read_parquet(p)
            else:
                frame, record = read_csv_file(p, opts.model_dump())
            display = str(src.path)
            digest = sha256_file(p)
    except FileNotFoundError as exc:
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"data file not found: {exc}", hint="paths are relative to the config file")) from None
    except ReadError as exc:
        key = f"{where}.{exc.key}" if exc.key else where
        raise AuditInputError(ErrorItem(file=config_file, path=key, message=f"dataset {name!r} ({src.path}): {exc}", hint=exc.hint)) from None
    except AuditInputError:
        raise
    except Exception as exc:  # unreadable data is the user's input problem, not a crash
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"cannot read dataset {name!r}: {type(exc).__name__}: {exc}")) from None
    dup = duplicate_names(frame.columns)
    if dup:
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"dataset {name!r} has duplicate column name(s): {', '.join(map(repr, dup))}", hint="give each column a unique name (in the file, or with AS in the query)"))
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) < MIN_ROWS:
        what = "is empty (0 rows)" if frame.empty else "has 1 row"
        raise AuditInputError(
            ErrorItem(
                file=config_file, path=where, message=f"dataset {name!r} {what}: an audit compares rows and groups and needs at least {MIN_ROWS}",
                hint="point the source at the full table (a header line followed by the data rows)",
            )
        )
    roles = ColumnRoles(**dc.roles.model_dump())
    missing = _missing_columns(frame, roles, dc)
    if missing:
        raise AuditInputError(
            [
                ErrorItem(
                    file=config_file,
                    path=f"datasets.{name}.{where_named}",
                    message=f"column {c!r} named in the config is not in dataset {name!r}",
                    hint="available columns: " + ", ".join(map(str, frame.columns[:40])),
                )
                for c, where_named in missing
            ]
        )
    na_values = opts.na_values if opts.na_values is not None else list(DEFAULT_NA_VALUES)
    record.na_values = list(na_values)
    prep: dict[str, Any] = {}
    stripped = strip_whitespace(frame, skip=roles.text)
    if stripped:
        prep["whitespace_stripped"] = stripped
    apply_na_values(frame, na_values)
    prep["missing_cells"] = {c: int(n) for c, n in frame.isna().sum().items() if n}
    label_cols = [c for c in dict.fromkeys([roles.target, *targets]) if c and c in frame.columns]
    if dc.label_map:
        if not label_cols:
            raise AuditInputError(ErrorItem(file=config_file, path=f"datasets.{name}.label_map", message="label_map rewrites the target, but no target is declared", hint="declare roles.target (or a model's target) for this dataset"))
        prep["label_map"] = {c: apply_label_map(frame, c, dc.label_map) for c in label_cols}
    if dc.value_labels:
        prep["value_labels"] = apply_value_labels(frame, dc.value_labels)
    return Dataset(
        name=name, frame=frame, roles=roles, source=display, sha256=digest, bands=dc.bands, language_column=dc.language_column,
        preprocessing=prep, reading=record.to_dict(),
    )


def _missing_columns(frame: pd.DataFrame, roles: ColumnRoles, dc: DatasetConfig) -> list[tuple[str, str]]:
    named: dict[str, str] = {}
    for role, value in roles.__dict__.items():
        for c in [value] if isinstance(value, str) else list(value or ()):
            named.setdefault(c, f"roles.{role}")
    if dc.language_column:
        named.setdefault(dc.language_column, "language_column")
    for c in dc.bands:
        named.setdefault(c, "bands")
    for c in dc.value_labels:
        named.setdefault(c, "value_labels")
    return [(c, where) for c, where in named.items() if c not in frame.columns]
