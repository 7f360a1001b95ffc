"""manifest.json: hashes of every input and output, tool and library versions; and `verify`."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from audit import TOOL_NAME, __version__
from audit.core.errors import AuditInputError, ErrorItem

FILENAME = "manifest.json"
LIBRARIES = (
    "pandas", "numpy", "scikit-learn", "scipy", "presidio-analyzer", "presidio-anonymizer", "spacy",
    "fairlearn", "shap", "jinja2", "weasyprint", "pydantic", "skops", "scikit-surprise", "jieba", "pillow",
)


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(*, inputs: list[dict[str, Any]], outputs: dict[str, bytes], run: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "tool": {"name": TOOL_NAME, "version": __version__},
        "run_id": run.get("id"),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "seed": run.get("seed"),
        "libraries": library_versions(),
        "inputs": inputs,
        "outputs": {name: {"sha256": sha256_bytes(data), "bytes": len(data)} for name, data in sorted(outputs.items())},
        **(extra or {}),
        "how_to_verify": "crm-audit verify DIR recomputes every sha256 listed here and exits 1 on a mismatch.",
    }


def verify(directory: str | Path) -> tuple[bool, list[str]]:
    """Recompute input and output hashes. Returns (ok, lines describing each check)."""
    d = Path(directory)
    mpath = d / FILENAME
    if not mpath.exists():
        raise AuditInputError(ErrorItem(file=str(mpath), message="no manifest.json in this folder", hint="point verify at a folder written by `crm-audit run`"))
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AuditInputError(ErrorItem(file=str(mpath), line=exc.lineno, message=f"manifest is not valid JSON: {exc.msg}")) from None
    lines: list[str] = []
    ok = True
    for name, info in manifest.get("outputs", {}).items():
        p = d / name
        if not p.exists():
            ok = False
            lines.append(f"MISSING  output {name}")
            continue
        actual = sha256_bytes(p.read_bytes())
        if actual != info["sha256"]:
            ok = False
            lines.append(f"CHANGED  output {name}: expected {info['sha256'][:16]}…, found {actual[:16]}…")
        else:
            lines.append(f"ok       output {name}")
    for item in manifest.get("inputs", []):
        kind = item.get("kind", "file")
        label = f"{item.get('role', 'input')} {item.get('path') or item.get('name')}"
        if kind == "file":
            p = Path(item["path"])
            if not p.is_absolute():
                p = (Path(item.get("base", ".")) / p)
            if not p.exists():
                ok = False
                lines.append(f"MISSING  {label}")
                continue
            actual = hashlib.sha256(p.read_bytes()).hexdigest()
            if actual != item["sha256"]:
                ok = False
                lines.append(f"CHANGED  {label}: expected {item['sha256'][:16]}…, found {actual[:16]}…")
            else:
                lines.append(f"ok       {label}")
        elif kind == "generated":
            from audit.demo import regenerate_hash

            actual = regenerate_hash(item)
            if actual is None:
                lines.append(f"skipped  {label}: cannot be regenerated here")
            elif actual != item["sha256"]:
                ok = False
                lines.append(f"CHANGED  {label}: regenerated data differs")
            else:
                lines.append(f"ok       {label} (regenerated from seed {item.get('seed')})")
        else:
            lines.append(f"skipped  {label}: {kind} inputs are recorded, not re-read")
    return ok, lines
