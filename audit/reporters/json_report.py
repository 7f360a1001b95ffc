"""findings.json: the versioned machine-readable result."""

from __future__ import annotations

import json
from typing import Any

from audit.core.result import AuditResult

FILENAME = "findings.json"


def render(result: AuditResult, **_: Any) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
