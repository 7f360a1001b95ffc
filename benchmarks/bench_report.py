"""How long the compliance report takes to render, as HTML and as PDF.

Builds the realistic audit result used by the report tests (the engine's checks on
a synthetic customer table, plus four models with fairness tables, SHAP charts,
segment composition, exposure and reason codes), then renders report.html and
report.pdf the way ``crm-audit run --format html,pdf`` does, in one process.
Target: under 10 s for both together at scale 1.

Wall-clock and CPU time are both printed: on a shared machine the CPU time is the
steadier figure.

Usage::

    python benchmarks/bench_report.py              # scale 1, 3 repetitions
    python benchmarks/bench_report.py --scale 3    # three times as many models
    python benchmarks/bench_report.py --repeat 1 --out /tmp/report  # keep the files
    python benchmarks/bench_report.py --findings reports/X/findings.json  # re-render a real run
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn):  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1, help="multiply the number of models (default 1: four models)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions after a warm-up render (default 3)")
    ap.add_argument("--out", type=Path, help="write report.html and report.pdf here")
    ap.add_argument("--findings", type=Path, help="re-render the report of a real run from its findings.json instead")
    args = ap.parse_args(argv)

    (_, w_import, _c) = _timed(lambda: __import__("audit.reporters.pdf"))
    from audit.reporters import html, pdf
    from tests.report.sample import realistic_result, result_from_json

    with tempfile.TemporaryDirectory() as tmp:
        if args.findings:
            import json

            result, w_build, _ = _timed(lambda: result_from_json(json.loads(args.findings.read_text(encoding="utf-8"))))
        else:
            result, w_build, _ = _timed(lambda: realistic_result(Path(tmp) / "inputs", scale=args.scale))
        # first render pays one-off costs (font lookups, WeasyPrint CSS parsing)
        (_, w_first_html, c_first_html) = _timed(lambda: html.render(result))
        (_, w_first_pdf, c_first_pdf) = _timed(lambda: pdf.render(result))
        rows = []
        for _ in range(args.repeat):
            html_text, w_h, c_h = _timed(lambda: html.render(result))
            pdf_bytes, w_p, c_p = _timed(lambda: pdf.render(result))
            rows.append((w_h, c_h, w_p, c_p))

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf_bytes)).pages)
    charts = html_text.count('class="chart"')
    source = f"findings from {args.findings}" if args.findings else f"synthetic result, scale {args.scale}"
    print(f"crm-audit report benchmark · Python {platform.python_version()} · {platform.machine()} · {source}")
    print(f"result: {len(result.findings)} findings, {len(result.models)} models, {charts} charts; PDF {pages} pages")
    print(f"sizes: report.html {len(html_text.encode()) / 1e3:.0f} kB, report.pdf {len(pdf_bytes) / 1e3:.0f} kB")
    print(f"one-off: import {w_import:.2f} s, building the result {w_build:.2f} s")
    print(f"first render (cold):  html {w_first_html:5.2f} s wall / {c_first_html:5.2f} s cpu   pdf {w_first_pdf:5.2f} s wall / {c_first_pdf:5.2f} s cpu   together {w_first_html + w_first_pdf:5.2f} s wall")
    if rows:
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"warm, median of {len(rows)}: html {med[0]:5.2f} s wall / {med[1]:5.2f} s cpu   pdf {med[2]:5.2f} s wall / {med[3]:5.2f} s cpu   together {med[0] + med[2]:5.2f} s wall / {med[1] + med[3]:5.2f} s cpu")
        best = [min(col) for col in zip(*rows)]
        print(f"warm, best of {len(rows)}:   html {best[0]:5.2f} s wall / {best[1]:5.2f} s cpu   pdf {best[2]:5.2f} s wall / {best[3]:5.2f} s cpu   together {best[0] + best[2]:5.2f} s wall / {best[1] + best[3]:5.2f} s cpu")
        total = med[1] + med[3]
        print(f"target < 10 s for both: {'met' if total < 10 else 'NOT met'} (median CPU time; {total / 10:.0%} of the budget)")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.html").write_text(html_text, encoding="utf-8")
        (args.out / "report.pdf").write_bytes(pdf_bytes)
        print(f"wrote {args.out / 'report.html'} and {args.out / 'report.pdf'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
