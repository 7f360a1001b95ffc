"""YAML loading that remembers the line of every key, so errors can point at it.

Policy packs and audit.yaml are written by people, but may arrive from elsewhere (a shared pack,
a pull request), so the loader refuses documents that could exhaust memory or hide a mistake:

* at most ``MAX_BYTES`` bytes of UTF-8 text (a byte-order mark is allowed);
* at most ``MAX_DEPTH`` levels of nested mappings and lists;
* at most ``MAX_NODES`` nodes *after* expanding aliases, and at most ``MAX_ALIASES`` alias uses,
  so a "billion laughs" document is refused in milliseconds instead of filling memory;
* no recursive aliases (``&a [*a]``);
* no key given twice in the same mapping (the error names both lines);
* no impossible dates (``2027-02-30``): the error names the line.

Every refusal is an :class:`AuditInputError` (exit code 2) naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.core.errors import AuditInputError, ErrorItem

Loc = tuple[str | int, ...]

MAX_BYTES = 1 << 20  # 1 MiB; the built-in packs are about 4 KB
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_ALIASES = 1_000

LIMITS_HINT = (
    f"limits: {MAX_BYTES // 1024} KiB, nesting depth {MAX_DEPTH}, {MAX_NODES:,} nodes after alias expansion, "
    f"{MAX_ALIASES:,} alias uses"
)


class _LimitError(Exception):
    def __init__(self, message: str, line: int | None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that counts depth and aliases while composing and names the node a value fails on."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _LimitError(f"refused YAML: more than {MAX_ALIASES:,} alias uses (*name)", mark.line + 1, LIMITS_HINT)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _LimitError(f"refused YAML: nested more than {MAX_DEPTH} levels deep", mark.line + 1, LIMITS_HINT)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {str(node.value)[:80]!r}: {exc}", node.start_mark
            ) from None

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _LimitError(
                f"impossible date {node.value!r}: {exc}", node.start_mark.line + 1, "write a real calendar date, YYYY-MM-DD"
            ) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _LimitedLoader.construct_yaml_timestamp)


def _check_expansion(root: yaml.Node) -> None:
    """Count nodes as if every alias were expanded (memoised, so it costs one pass over the graph)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _LimitError("refused YAML: recursive alias: a node contains itself", node.start_mark.line + 1, "remove the self-reference")
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > MAX_NODES:
                    break
        active.discard(key)
        if total > MAX_NODES:
            raise _LimitError(
                f"refused YAML: more than {MAX_NODES:,} nodes once aliases are expanded (an alias bomb?)",
                node.start_mark.line + 1,
                LIMITS_HINT,
            )
        sizes[key] = total
        return total

    size(root)


def _duplicate_keys(node: yaml.Node, seen_nodes: set[int], errors: list[ErrorItem], file: str, loc: Loc) -> None:
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                key = (k.tag, k.value)
                line = k.start_mark.line + 1
                if key in first:
                    errors.append(
                        ErrorItem(
                            file=file,
                            line=line,
                            path=format_loc((*loc, k.value)),
                            message=f"key {k.value!r} appears twice: line {first[key]} and line {line}",
                            hint="keep one of them; YAML would otherwise silently use the last",
                        )
                    )
                else:
                    first[key] = line
            sub = (*loc, k.value) if isinstance(k, yaml.ScalarNode) else loc
            _duplicate_keys(v, seen_nodes, errors, file, sub)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate_keys(item, seen_nodes, errors, file, (*loc, i))


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
            lines.setdefault(sub, k.start_mark.line + 1)
            _walk(v, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*loc, i)
            lines.setdefault(sub, item.start_mark.line + 1)
            _walk(item, sub, lines)


def _decode(raw: bytes, name: str, what: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise AuditInputError(
            ErrorItem(file=name, line=1, message=f"{what} is UTF-16, not UTF-8", hint="save the file as UTF-8")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AuditInputError(
            ErrorItem(
                file=name,
                line=line,
                message=f"{what} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                hint="save the file as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`)",
            )
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def parse_yaml_text(text: str, *, file: str = "<text>") -> LocatedYAML:
    """Parse YAML text within the limits above; every problem is an AuditInputError naming the line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise AuditInputError(
            ErrorItem(file=file, message=f"larger than {MAX_BYTES // 1024} KiB", hint=LIMITS_HINT)
        )
    loader = None
    try:
        loader = _LimitedLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node)
            dups: list[ErrorItem] = []
            _duplicate_keys(node, set(), dups, file, ())
            if dups:
                raise AuditInputError(dups)
        data = loader.construct_document(node) if node is not None else None
    except _LimitError as exc:
        raise AuditInputError(ErrorItem(file=file, line=exc.line, message=exc.message, hint=exc.hint)) from None
    except yaml.reader.ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        raise AuditInputError(
            ErrorItem(file=file, line=line, message=f"malformed YAML: control character U+{exc.character:04X} is not allowed in YAML", hint="remove the character, or write it as an escape inside double quotes (\"\\x07\")")
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise AuditInputError(
            ErrorItem(file=file, line=line, message=f"malformed YAML: {problem}", hint="fix the YAML syntax")
        ) from None
    except RecursionError:
        raise AuditInputError(ErrorItem(file=file, message="refused YAML: nested too deeply", hint=LIMITS_HINT)) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return LocatedYAML(data, lines, file)


def load_yaml(path: str | Path, *, what: str = "file") -> LocatedYAML:
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise AuditInputError(
            ErrorItem(file=name, message=f"{what} not found", hint="check the path; nothing falls back to a default")
        )
    if p.is_dir():
        raise AuditInputError(ErrorItem(file=name, message=f"{what} is a directory, expected a YAML file"))
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AuditInputError(ErrorItem(file=name, message=f"cannot read {what}: {exc.strerror or exc}")) from None
    if len(raw) > MAX_BYTES:
        raise AuditInputError(ErrorItem(file=name, message=f"{what} is larger than {MAX_BYTES // 1024} KiB", hint=LIMITS_HINT))
    return parse_yaml_text(_decode(raw, name, what), file=name)


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
