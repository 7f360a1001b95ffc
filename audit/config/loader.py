"""Load and validate audit.yaml, then read the datasets it declares."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from audit.config.models import AuditConfig, DatasetConfig
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
    from audit.config.model_rules import check_models

    return check_models(cfg, doc)


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


def read_dataset(name: str, dc: DatasetConfig, *, base: Path, config_file: str) -> Dataset:
    src = dc.source
    where = f"datasets.{name}.source"
    try:
        if src.url or src.format == "sql" or (src.path and Path(src.path).suffix in (".db", ".sqlite", ".sqlite3")):
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
            digest = sha256_frame(frame)
        else:
            p = (base / str(src.path)).resolve()
            if not p.exists():
                raise FileNotFoundError(str(p))
            fmt = src.format or ("parquet" if p.suffix in (".parquet", ".pq") else "csv")
            frame = pd.read_parquet(p, **src.options) if fmt == "parquet" else pd.read_csv(p, **src.options)
            display = str(src.path)
            digest = sha256_file(p)
    except FileNotFoundError as exc:
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"data file not found: {exc}", hint="paths are relative to the config file")) from None
    except AuditInputError:
        raise
    except Exception as exc:  # unreadable data is the user's input problem, not a crash
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"cannot read dataset {name!r}: {type(exc).__name__}: {exc}")) from None
    if frame.empty:
        raise AuditInputError(ErrorItem(file=config_file, path=where, message=f"dataset {name!r} is empty (0 rows)", hint="point the source at a file with data"))
    roles = ColumnRoles(**dc.roles.model_dump())
    missing = _missing_columns(frame, roles, dc)
    if missing:
        raise AuditInputError(
            [
                ErrorItem(
                    file=config_file,
                    path=f"datasets.{name}.roles",
                    message=f"column {c!r} named in the config is not in dataset {name!r}",
                    hint="available columns: " + ", ".join(map(str, frame.columns[:40])),
                )
                for c in missing
            ]
        )
    return Dataset(name=name, frame=frame, roles=roles, source=display, sha256=digest, bands=dc.bands, language_column=dc.language_column)


def _missing_columns(frame: pd.DataFrame, roles: ColumnRoles, dc: DatasetConfig) -> list[str]:
    named = [roles.id, roles.target, *roles.protected, *roles.quasi_identifiers, *roles.sensitive_values, *roles.text, *roles.timestamps, *roles.features, *roles.optional, dc.language_column, roles.user, roles.item, roles.rating, roles.category, roles.price]
    return [c for c in dict.fromkeys(n for n in named if n) if c not in frame.columns]
