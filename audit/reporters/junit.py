"""junit.xml: one testcase per (check, subject), named ``[SEVERITY][check id] subject``."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from audit.core.result import AuditResult
from audit.core.types import Status

FILENAME = "junit.xml"


def testcase_name(severity: str, check_id: str, subject: str) -> str:
    return f"[{severity.upper()}][{check_id}] {subject}"


def render(result: AuditResult, **_: Any) -> str:
    suites = ET.Element("testsuites", name="crm-audit")
    by_cat: dict[str, list[Any]] = {}
    for f in result.findings:
        by_cat.setdefault(f.category, []).append(f)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for cat, items in sorted(by_cat.items()):
        suite = ET.SubElement(suites, "testsuite", name=f"crm-audit.{cat}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in items:
            tc = ET.SubElement(suite, "testcase", classname=f"crm-audit.{f.check_id}", name=testcase_name(f.severity.value, f.check_id, f.subject), time="0")
            counts["tests"] += 1
            if f.status is Status.FAIL:
                el = ET.SubElement(tc, "failure", message=f.message, type=f.severity.value)
                el.text = f"{f.message}\nregulations: {', '.join(f.regulations)}"
                counts["failures"] += 1
            elif f.status is Status.ERROR:
                el = ET.SubElement(tc, "error", message=f.message, type="check-error")
                el.text = f.message
                counts["errors"] += 1
            elif f.status is Status.WAIVED:
                reason = (f.waiver or {}).get("reason", "")
                ET.SubElement(tc, "skipped", message=f"waived: {reason} (approved by {(f.waiver or {}).get('approved_by', '?')}, expires {(f.waiver or {}).get('expires', '?')})")
                counts["skipped"] += 1
            elif f.status is Status.SKIPPED:
                ET.SubElement(tc, "skipped", message=f"skipped: {f.message}")
                counts["skipped"] += 1
            else:
                out = ET.SubElement(tc, "system-out")
                out.text = f.message
        for k, v in counts.items():
            suite.set(k, str(v))
            total[k] += v
    for k, v in total.items():
        suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
