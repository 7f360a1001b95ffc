"""report.html: the self-contained audit report rendered from the Jinja templates."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from audit.core.result import AuditResult
from audit.resources import templates_dir

FILENAME = "report.html"
TEMPLATE = "report.html.j2"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(["html", "j2", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    return env


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def context(result: AuditResult, *, for_pdf: bool = False) -> dict[str, Any]:
    data = result.to_dict()
    return {"r": data, "for_pdf": for_pdf, "extras": data.get("extras", {})}


def render(result: AuditResult, **_: Any) -> str:
    return environment().get_template(TEMPLATE).render(**context(result))
