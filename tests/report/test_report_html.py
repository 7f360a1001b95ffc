from __future__ import annotations

import dataclasses
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from audit.core.finding import Finding
from audit.core.types import Provenance, Severity, Status, SubjectKind
from audit.reporters import html
from audit.reporters.html import instrument_of, subject_phrase, worst_status

from .sample import CHINESE_EXAMPLE, CHINESE_GROUP, customer_frame


class _Collector(HTMLParser):
    """Collect resource references and ids from an HTML document."""

    URL_ATTRS = frozenset({"src", "href", "xlink:href", "srcset", "poster", "data", "action", "formaction", "background", "cite", "manifest"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self.styles: list[str] = []
        self.scripts = 0
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.refs.append((tag, name, value))
            if name == "id" and value:
                self.ids.append(value)
            if name == "style" and value:
                self.styles.append(value)
        if tag == "script":
            self.scripts += 1
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _collect(text: str) -> _Collector:
    c = _Collector()
    c.feed(text)
    return c


def test_no_external_resource_reference(html_text):
    c = _collect(html_text)
    assert c.scripts == 0
    for tag, attr, value in c.refs:
        v = value.strip().lower()
        assert not v.startswith(("http:", "https:", "//", "ftp:", "file:")), (tag, attr, value)
        assert v.startswith(("#", "data:")), (tag, attr, value)
    for css in c.styles:
        assert not re.search(r"url\(\s*['\"]?(?!data:|#)", css), css
        assert "@import" not in css
    # the content security policy forbids any fetch beyond inline styles and data: images
    assert "default-src 'none'" in html_text


def test_ids_are_unique(html_text):
    ids = _collect(html_text).ids
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes


def test_sections_and_cover(html_text, result):
    for anchor in ("cover", "contents", "summary", "regulations", "attestations", "datasets", "models", "waivers", "methodology", "evidence", "all-findings"):
        assert f'id="{anchor}"' in html_text
    assert "Acme Retail CRM" in html_text and "4.2.0" in html_text and "Customer Analytics, Acme Retail GmbH" in html_text
    assert "Gate verdict: <strong>FAIL</strong>" in html_text
    for pack in result.policies:
        assert f"<code>{pack['id']}</code>" in html_text
    for label in ("Prepared by", "Reviewed by", "Approved by"):
        assert label in html_text
    assert "A. Auditor" in html_text
    # reviewer and approver are not named: two lines to fill in for each of name and date
    assert html_text.count('class="blank-line"') >= 2 + 3  # names + signatures
    assert "crm-audit verify DIR" in html_text


def test_regulation_view(html_text):
    for inst in ("GDPR", "EU AI Act", "PIPL", "CCPA", "ECOA", "US EEOC"):
        assert f'id="reg-{inst.lower().replace(" ", "-")}"' in html_text, inst
    # articles from each instrument, with the checks that serve them
    for ref in ("GDPR Art. 5(1)(c)", "EU AI Act Art. 10(2)(f)", "PIPL Art. 24", "Cal. Civ. Code 1798.140(ae)", "Reg B 1002.9(b)(2)", "29 CFR 1607.4(D)"):
        assert f'<th scope="row">{ref}</th>' in html_text, ref
    # the answered attestation names who attested and when; open ones are listed as open
    assert "by Jane Doe, Data Protection Officer on 2026-10-20" in html_text
    assert "<code>human_review</code>: not yet answered" in html_text


def test_summary_counts_and_baseline(html_text, result):
    counts = result.counts()["by_status"]
    assert f'<td class="num">{counts["fail"]}</td>' in html_text
    new = sum(1 for f in result.findings if f.baseline == "new")
    unchanged = sum(1 for f in result.findings if f.baseline == "unchanged")
    assert f"<strong>{new}</strong> new open finding(s), <strong>{unchanged}</strong> unchanged, <strong>{len(result.resolved)}</strong> resolved" in html_text
    assert len(result.resolved) >= 1 and 'tag-resolved">resolved' in html_text
    assert "Most serious open findings" in html_text


def test_datasets_models_and_charts(html_text, result):
    assert CHINESE_EXAMPLE in html_text  # masked example carried by a finding, rendered as given
    assert "CN_PHONE" in html_text and "EMAIL_ADDRESS" in html_text
    for m in result.models:
        assert f"Model “{m['name']}”" in html_text
    charts = re.findall(r'<svg[^>]*class="chart"', html_text)
    # per classifier: a group chart for the failing fairness finding (passing ones keep their
    # table only), SHAP bar and beeswarm; one segment composition, one exposure chart
    assert len(charts) == 2 * 1 + 2 * 2 + 1 + 1
    assert "reference: best group" in html_text
    assert CHINESE_GROUP in html_text  # group name in the table and as <text> in the chart
    assert "Two or more late payments in the last 12 months" in html_text
    assert "C****17" in html_text


def test_no_raw_pii_from_the_dataset(html_text):
    df = customer_frame()
    leaked = [e for e in df["email"] if e in html_text]
    assert not leaked
    assert not any(cid in html_text for cid in df["customer_id"].head(50))


def test_waivers_and_provenance(html_text):
    assert "EXPIRED" in html_text and "income backfill from the billing system" in html_text
    assert "Head of Data, M. Keller" in html_text and "2027-03-31" in html_text
    assert "Waiver <strong>expired</strong> on 2026-06-30" in html_text
    # a tool default must never pass for law
    assert "no regulatory threshold; policy default" in html_text
    assert "threshold from regulator guidance" in html_text
    assert "What this tool cannot judge" in html_text and "solely automated" in html_text.lower()
    assert "Model explanations use a sample of 200 customers per model." in html_text


def test_escaping(small_result):
    evil = '<script>alert("x")</script>'
    bad = Finding(
        check_id="test.escape", title=f"title {evil}", category="governance", status=Status.FAIL, severity=Severity.LOW,
        subject=f"dataset:customers/column:{evil}", subject_kind=SubjectKind.TEXT_COLUMN, message=f"message {evil}",
        evidence={"masked_examples": [evil], "note": evil, "by_group": [{"group": evil, "n": 50, "value": 0.5, "ci_low": 0.4, "ci_high": 0.6}]},
        regulations=(f"GDPR Art. 1 {evil}",),
    )
    res = dataclasses.replace(small_result, findings=(*small_result.findings, bad), extras={"reason_code_examples": {"credit_lr": [{"customer": evil, "decision": evil, "reasons": [evil]}]}})
    text = html.render(res)
    assert "<script" not in text
    assert "&lt;script&gt;" in text


def test_degrades_without_optional_evidence(small_result):
    res = dataclasses.replace(small_result, waivers=(), attestations=(), inputs=(), limitations=())
    text = html.render(res)
    assert "No model was audited." in text
    assert "No waiver is defined" in text
    assert "No baseline audit was given" in text
    assert "cannot be verified" in text
    assert "<svg" not in text


def test_malformed_evidence_does_not_break_the_report(small_result):
    odd = [
        Finding(check_id="fairness.odd", title="odd", category="fairness", status=Status.FAIL, severity=Severity.MEDIUM, subject="model:ghost", subject_kind=SubjectKind.CLASSIFIER, message="m",
                evidence={"by_group": [{"group": "a"}, {"value": "n/a"}, "junk", {"group": "b", "value": 0.2, "ci_low": None, "ci_high": float("nan")}], "ci": [None], "p_value": None, "statistically_clear": None}),
        Finding(check_id="pii.odd", title="odd", category="privacy", status=Status.FAIL, severity=Severity.LOW, subject="dataset:ghost", subject_kind=SubjectKind.DATASET, message="m",
                evidence={"entity_counts": {"col": {"EMAIL": 3}}, "masked_examples": {"EMAIL": ["a***@x"]}, "rows_by_entity": {"EMAIL": {"col": 2}}}),
    ]
    extras = {
        "explanations": {"ghost": {"global": {"a": "x"}, "sample": {"features": ["a"], "shap": [[1.0, 2.0]]}}},
        "segments": {"ghost": {"composition": {"s1": "bad"}}},
        "exposure": {"ghost": {"g": {"exposure_share": None}}},
        "reason_code_examples": {"ghost": ["bad", {"customer": "C*1"}]},
    }
    res = dataclasses.replace(small_result, findings=(*small_result.findings, *odd), extras=extras)
    text = html.render(res)
    assert "Model “ghost”" in text and "Dataset “ghost”" in text
    assert "a***@x" in text


@pytest.mark.parametrize(
    ("ref", "instrument"),
    [
        ("GDPR Art. 5(1)(c)", "GDPR"),
        ("GDPR Recital 26", "GDPR"),
        ("EU AI Act Art. 10(2)(f)", "EU AI Act"),
        ("AI Act Art. 13", "EU AI Act"),
        ("PIPL Art. 24", "PIPL"),
        ("Cal. Civ. Code 1798.140(ae)", "CCPA"),
        ("CCPA 1798.100", "CCPA"),
        ("Reg B 1002.9(b)(2)", "ECOA"),
        ("Regulation B 1002.6(b)", "ECOA"),
        ("ECOA", "ECOA"),
        ("12 CFR 1002.4(a)", "ECOA"),
        ("29 CFR 1607.4(D)", "US EEOC"),
        ("HIPAA 164.514(b)", "HIPAA"),
        ("LGPD Art. 20", "LGPD"),
    ],
)
def test_instrument_of(ref, instrument):
    assert instrument_of(ref) == instrument


def test_small_helpers():
    assert worst_status(["pass", "skipped", "fail", "waived"]) == "fail"
    assert worst_status([]) == "not run"
    assert subject_phrase("dataset:crm/column:notes") == "column “notes” of dataset “crm”"
    assert subject_phrase("model:churn/by:gender") == "model “churn” (by “gender”)"
    assert subject_phrase("system") == "the system as a whole"


def test_expiring_waiver_is_announced(small_result):
    rows = [dict(w) for w in small_result.waivers]
    rows[0] = {**rows[0], "expires": "2026-12-01", "state": "active"}
    run = {**small_result.run, "started_at": "2026-11-20T10:00:00+00:00"}
    text = html.render(dataclasses.replace(small_result, waivers=tuple(rows), run=run))
    assert "active, expires in 11 day(s)" in text


def test_tool_provenance_phrase():
    assert html.provenance_phrase(Provenance.TOOL.value).startswith("no regulatory threshold")
    assert html.provenance_phrase("nonsense") == "no regulatory threshold"


def test_signoff_filled_from_run(small_result):
    run = {**small_result.run, "signoff": {"prepared_by": "P", "prepared_on": "2026-11-01", "reviewed_by": "R", "reviewed_on": "2026-11-02", "approved_by": "A", "approved_on": date(2026, 11, 3).isoformat()}}
    text = html.render(dataclasses.replace(small_result, run=run))
    sign = text[text.index('<table class="signoff">'): text.index("</table>", text.index('<table class="signoff">'))]
    assert "2026-11-03" in sign and "<td>R</td>" in sign
    assert sign.count('class="blank-line"') == 3  # only the signatures remain to be written by hand


def test_every_finding_is_in_the_report(html_text, result):
    for i, f in enumerate(result.findings):
        assert html_text.count(f'id="finding-{i}"') == 1, f.key
        assert f'href="#finding-{i}"' in html_text  # the appendix index links to it


def test_report_depends_only_on_the_result_dict_and_is_reproducible(html_text, result):
    from .sample import result_from_json

    again = html.render(result_from_json(result.to_dict()))
    assert again == html_text
