"""User-facing input errors. Each maps to exit code 2 and names the file, key and fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorItem:
    file: str
    message: str
    path: str = ""
    line: int | None = None
    hint: str = ""

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        head = f"{where}: {self.path + ': ' if self.path else ''}{self.message}"
        return head + (f"\n    hint: {self.hint}" if self.hint else "")


class AuditInputError(Exception):
    """A problem with what the user gave us (config, policy, data, model). Exit code 2."""

    def __init__(self, items: list[ErrorItem] | ErrorItem | str, *, file: str = "") -> None:
        if isinstance(items, str):
            items = [ErrorItem(file=file or "<input>", message=items)]
        elif isinstance(items, ErrorItem):
            items = [items]
        self.items = items
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.items)
        head = f"{n} error{'s' if n != 1 else ''}:" if n > 1 else ""
        body = "\n".join(i.render() for i in self.items)
        return f"{head}\n{body}" if head else body
