"""YAML loading that remembers the line of every key, so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.core.errors import AuditInputError, ErrorItem

Loc = tuple[str | int, ...]


class LocatedYAML:
    def __init__(self, data: Any, lines: dict[Loc, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest prefix of ``loc`` that exists in the document."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            sub = (*loc, key)
            lines[sub] = k.start_mark.line + 1
            _walk(v, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*loc, i)
            lines[sub] = item.start_mark.line + 1
            _walk(item, sub, lines)


def load_yaml(path: str | Path, *, what: str = "file") -> LocatedYAML:
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise AuditInputError(
            ErrorItem(file=name, message=f"{what} not found", hint="check the path; nothing falls back to a default")
        )
    if p.is_dir():
        raise AuditInputError(ErrorItem(file=name, message=f"{what} is a directory, expected a YAML file"))
    text = p.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise AuditInputError(
            ErrorItem(file=name, line=line, message=f"malformed YAML: {problem}", hint="fix the YAML syntax")
        ) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return LocatedYAML(data, lines, name)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def pydantic_errors(exc: Any, doc: LocatedYAML, prefix: Loc = ()) -> list[ErrorItem]:
    """Turn a pydantic ValidationError into located, actionable error items."""
    items: list[ErrorItem] = []
    for err in exc.errors():
        loc = (*prefix, *[p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))])
        etype = err["type"]
        hint = ""
        if etype == "extra_forbidden":
            parent_model = err.get("ctx", {}).get("model") if err.get("ctx") else None
            allowed = _allowed_keys(exc, err)
            msg = f"unknown key {loc[-1]!r}"
            if allowed:
                hint = "allowed keys: " + ", ".join(allowed)
            del parent_model
        elif etype == "missing":
            msg = f"missing required key {loc[-1]!r}"
        else:
            msg = f"{err['msg']} (got {err.get('input')!r})" if "input" in err and not isinstance(
                err.get("input"), (dict, list)
            ) else err["msg"]
        items.append(ErrorItem(file=doc.file, line=doc.line_of(loc), path=format_loc(loc), message=msg, hint=hint))
    return items


def _allowed_keys(exc: Any, err: dict[str, Any]) -> list[str]:
    model = getattr(exc, "_audit_model", None)
    if model is None:
        return []
    # walk the model along the error's location to find the model that forbade the key
    from pydantic import BaseModel

    current: Any = model
    mapping_key_next = False
    for part in err["loc"][:-1]:
        if isinstance(part, int):
            continue
        if mapping_key_next:  # a name the user chose (a dataset name), not a field
            mapping_key_next = False
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        mapping_key_next = _is_mapping(ann)
        current = _inner_model(ann) or current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _is_mapping(ann: Any) -> bool:
    from typing import get_args, get_origin

    if get_origin(ann) is dict:
        return True
    return any(_is_mapping(a) for a in get_args(ann) if a is not type(None))


def _inner_model(ann: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in get_args(ann):
        found = _inner_model(a)
        if found is not None:
            return found
    return None
