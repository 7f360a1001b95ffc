"""One module per output format; each exposes FILENAME and render(result) -> str | bytes."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from audit.core.result import AuditResult
from audit.reporters import html, json_report, junit, manifest, markdown, sarif
from audit.reporters.atomic import write_atomic

REPORTERS: dict[str, ModuleType] = {
    "pdf": None,  # type: ignore[dict-item]  # loaded lazily (WeasyPrint is heavy)
    "json": json_report,
    "html": html,
    "junit": junit,
    "sarif": sarif,
    "md": markdown,
}


def _pdf_module() -> ModuleType:
    from audit.reporters import pdf

    return pdf


def render_all(result: AuditResult, formats: tuple[str, ...]) -> dict[str, bytes]:
    """Render every requested format in memory first, so a failure writes nothing."""
    rendered: dict[str, bytes] = {}
    mods = [_pdf_module() if f == "pdf" else REPORTERS[f] for f in formats]
    for mod in mods:
        data = mod.render(result)
        rendered[mod.FILENAME] = data.encode("utf-8") if isinstance(data, str) else data
    return rendered


def write_outputs(result: AuditResult, out: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    rendered = render_all(result, formats)
    written = {name: write_atomic(out / name, data) for name, data in rendered.items()}
    man = manifest.build_manifest(inputs=list(result.inputs), outputs=rendered, run=dict(result.run), extra=dict(result.extras.get("manifest", {})))
    import json

    written[manifest.FILENAME] = write_atomic(out / manifest.FILENAME, json.dumps(man, indent=2, ensure_ascii=False) + "\n")
    return written


__all__ = ["REPORTERS", "render_all", "write_outputs"]
