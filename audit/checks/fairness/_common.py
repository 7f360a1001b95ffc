"""Shared plumbing of the fairness checks: protected groups, evidence and messages.

Groups come from the protected attributes recorded with a model artifact
(``artifact.sensitive`` or, for recommenders, ``artifact.user_sensitive``).
Numeric attributes are cut into the bands the audit configuration declares for
them; a raw attribute is left out when the artifact also carries its banded
version (``age`` next to ``age_band``). Missing values form an explicit
``"unknown"`` group.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from audit.core.check import Check, CheckParams, fmt
from audit.core.context import AuditContext
from audit.core.finding import Outcome
from audit.core.types import Status
from audit.fairness import FairnessResult, GroupLabels, make_groups

CROSS = "×"
_SEP = "\x1f"
MAX_LEVELS = 20
BAND_SUFFIXES = ("_band", "_group", "_bucket")
BANDED_VERSION = "analysed through its banded version"

Op = Literal[">=", "<=", ">", "<"]


class GroupParams(CheckParams):
    """Options shared by every check that compares protected groups."""

    attributes: list[str] | None = Field(
        None, description="Protected attributes to compare; default: every protected attribute recorded with the model."
    )
    min_group_size: int = Field(
        30, ge=1, description="Groups smaller than this are shown but neither set the value nor fail the check."
    )
    n_boot: int = Field(200, ge=0, le=100_000, description="Bootstrap replicates behind the confidence interval (0: none).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of the intervals.")


@dataclass(frozen=True)
class Grouping:
    """Groups of the rows of one model for one attribute (or one crossing)."""

    attribute: str  # "gender" or "gender×age_band"
    groups: GroupLabels

    @property
    def labels(self) -> np.ndarray:
        return self.groups.labels


# ---------------------------------------------------------------------------
# groups


def bands_for(artifact: Any, ctx: AuditContext) -> dict[str, list[float]]:
    """Band edges for the model's attributes: its own dataset's first, then any dataset's."""
    out: dict[str, list[float]] = {}
    for ds in ctx.datasets.values():
        for attr, edges in (ds.bands or {}).items():
            out.setdefault(attr, list(edges))
    own = ctx.datasets.get(str(getattr(artifact, "dataset", "") or ""))
    if own is not None:
        out.update({a: list(e) for a, e in (own.bands or {}).items()})
    return out


def resolve_attributes(
    frame: pd.DataFrame, bands: Mapping[str, Sequence[float]], wanted: Sequence[str] | None
) -> tuple[list[str], dict[str, str]]:
    """Attributes to compare and, for each left out, the reason.

    A numeric attribute without bands and with more than ``MAX_LEVELS`` values
    cannot form groups and is left out with a reason.
    """
    skipped: dict[str, str] = {}
    cols = [str(c) for c in frame.columns]
    if wanted is not None:
        chosen = []
        for a in wanted:
            if a in cols:
                chosen.append(a)
            else:
                skipped[a] = f"attribute {a!r} is not recorded with the model (recorded: {', '.join(cols) or 'none'})"
    else:
        chosen = []
        for a in cols:
            banded = [f"{a}{s}" for s in BAND_SUFFIXES if f"{a}{s}" in cols]
            if banded:
                skipped[a] = f"{BANDED_VERSION} {banded[0]!r}"
                continue
            chosen.append(a)
    kept = []
    for a in chosen:
        s = frame[a]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if numeric and a not in bands and s.nunique(dropna=True) > MAX_LEVELS:
            skipped[a] = (
                f"numeric attribute {a!r} has {s.nunique(dropna=True)} distinct values and no bands: "
                "declare bands for it in the dataset configuration"
            )
            continue
        kept.append(a)
    return kept, skipped


def grouping(frame: pd.DataFrame, attributes: Sequence[str], bands: Mapping[str, Sequence[float]]) -> Grouping:
    """Groups of ``frame``'s rows over one attribute or the crossing of several.

    Labels are the attribute values (``"F"``, ``"18-29"``); crossed labels join
    them with ``×`` (``"F×18-29"``). Missing values are ``"unknown"``.
    """
    attrs = list(attributes)
    use_bands = {a: bands[a] for a in attrs if a in bands and pd.api.types.is_numeric_dtype(frame[a].dtype)}
    g = make_groups(frame.reset_index(drop=True), attributes=attrs, bands=use_bands, separator=_SEP)
    names = tuple(CROSS.join(part.split("=", 1)[1] for part in name.split(_SEP)) for name in g.names)
    return Grouping(
        attribute=CROSS.join(attrs),
        groups=GroupLabels(codes=g.codes, names=names, sizes=g.sizes, attributes=g.attributes),
    )


def groupings(
    frame: pd.DataFrame,
    artifact: Any,
    ctx: AuditContext,
    wanted: Sequence[str] | None,
) -> tuple[list[Grouping], dict[str, str], dict[str, list[float]]]:
    """One grouping per protected attribute, the attributes left out, and the bands used."""
    bands = bands_for(artifact, ctx)
    attrs, skipped = resolve_attributes(frame, bands, wanted)
    return [grouping(frame, [a], bands) for a in attrs], skipped, bands


# ---------------------------------------------------------------------------
# numbers


def wilson(successes: float, n: float, confidence: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (None when n is 0)."""
    if not n or n <= 0:
        return None, None
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def num(x: Any) -> float | None:
    """A finite float or None."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "<1e-300" if p == 0 else f"{p:.2g}"


def fmt_ci(low: float | None, high: float | None) -> str:
    return f"{fmt(round(low, 4))}–{fmt(round(high, 4))}" if low is not None and high is not None else "n/a"


# ---------------------------------------------------------------------------
# evidence and messages


def group_rows(
    by_group: pd.DataFrame,
    column: str,
    *,
    ci: Sequence[tuple[float | None, float | None]] | None = None,
    extra: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The ``by_group`` evidence list: group, n, value, ci_low, ci_high, eligible (+ extra columns)."""
    rows = []
    for i, rec in enumerate(by_group.to_dict(orient="records")):
        lo, hi = ci[i] if ci is not None else (None, None)
        row: dict[str, Any] = {
            "group": str(rec["group"]),
            "n": int(rec["n"]),
            "value": num(rec.get(column)),
            "ci_low": num(lo),
            "ci_high": num(hi),
            "eligible": bool(rec.get("eligible", True)),
        }
        for key in extra:
            if key in rec:
                v = rec[key]
                row[key] = num(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else v
        rows.append(row)
    return rows


def direction(op: Op) -> Literal["above", "below"]:
    """Which side of the threshold is a breach, in FairnessResult terms."""
    return "below" if op in (">=", ">") else "above"


def passes(value: float, threshold: float, op: Op) -> bool:
    return {">=": value >= threshold, ">": value > threshold, "<=": value <= threshold, "<": value < threshold}[op]


def clarity(
    value: float,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    threshold: float,
    op: Op,
    confidence: float,
) -> tuple[bool, str]:
    """Whether a breach is statistically clear, and the sentence that says so.

    A breach is clear when the confidence interval lies wholly beyond the
    threshold and, where a test of the worst against the best group is given,
    its p-value is below ``1 - confidence``.
    """
    pct = f"{confidence * 100:g}%"
    ci_txt = f"{pct} CI {fmt_ci(ci_low, ci_high)}"
    p_txt = f", p={fmt_p(p_value)}" if p_value is not None else ""
    if passes(value, threshold, op):
        return False, f"{ci_txt}{p_txt}"
    if ci_low is None or ci_high is None:
        return False, f"breach not tested for significance (no confidence interval{p_txt})"
    beyond = ci_high < threshold if direction(op) == "below" else ci_low > threshold
    if op in (">", "<"):
        beyond = ci_high <= threshold if direction(op) == "below" else ci_low >= threshold
    alpha = 1.0 - confidence
    if beyond and (p_value is None or p_value < alpha):
        return True, f"breach statistically clear ({ci_txt}{p_txt})"
    if beyond:
        return False, f"breach within noise: the {ci_txt} excludes the threshold but the worst and best groups do not differ significantly{p_txt}"
    return False, f"breach within noise: the {ci_txt} reaches the threshold{p_txt}"


def small_groups_note(by_group: pd.DataFrame, min_group_size: int) -> str:
    """Names the groups shown but not judged because they are small."""
    if "eligible" not in by_group.columns:
        return ""
    small = by_group[(by_group["n"] < min_group_size)]
    if small.empty:
        return ""
    listed = ", ".join(f"{g} (n={int(n)})" for g, n in zip(small["group"], small["n"], strict=True))
    return f"groups below n={min_group_size} are shown but not judged: {listed}"


def fairness_outcome(
    check: Check,
    subject: str,
    result: FairnessResult,
    *,
    threshold: float,
    op: Op,
    what: str,
    column: str,
    attribute: str,
    min_group_size: int,
    confidence: float,
    group_ci: Sequence[tuple[float | None, float | None]] | None = None,
    extra_columns: Sequence[str] = (),
    evidence: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    worst_label: str = "worst-off group",
    best_label: str = "best-off",
    groups_text: str | None = None,
    metric_label: str | None = None,
) -> Outcome:
    """Judge a :class:`FairnessResult` and write the evidence the report renders."""
    rows = group_rows(result.by_group, column, ci=group_ci, extra=extra_columns)
    value = num(result.value)
    ci_low, ci_high = num(result.ci_low), num(result.ci_high)
    p = num(result.p_value)
    ev: dict[str, Any] = {
        "attribute": attribute,
        "metric": metric_label or column.replace("_", " "),
        "by_group": rows,
        "ci": [ci_low, ci_high],
        "p_value": p,
        "p_value_adjusted": num(result.p_value_adjusted),
        "test": result.test,
        "worst_group": result.worst_group,
        "best_group": result.best_group,
        "excluded_groups": list(result.excluded_groups),
        "value_all_groups": num(result.value_all_groups),
        "min_group_size": min_group_size,
        "n_boot": result.n_boot,
        "confidence": confidence,
    }
    if result.notes:
        ev["notes"] = list(result.notes)
    ev.update(evidence or {})
    small = small_groups_note(result.by_group, min_group_size)
    bg = result.by_group
    n_eligible = int(bg["eligible"].astype(bool).sum()) if "eligible" in bg.columns else len(bg)
    if value is not None and n_eligible < 2:
        ev["statistically_clear"] = False
        sizes = ", ".join(f"{g} (n={int(n)})" for g, n in zip(bg["group"], bg["n"], strict=True)) if "n" in bg.columns else ""
        return check.skip(subject, f"{what} not measured: fewer than two groups of {attribute} with n >= {min_group_size}" + (f" ({sizes})" if sizes else ""), evidence=ev)
    if value is None:
        ev["statistically_clear"] = False
        reason = "; ".join(x for x in (*result.notes, small) if x) or "no between-group comparison possible"
        return check.skip(subject, f"{what} could not be computed: {reason}", evidence=ev)
    clear, sentence = clarity(value, ci_low, ci_high, p, threshold, op, confidence)
    ev["statistically_clear"] = clear
    parts = []
    if groups_text:
        parts.append(groups_text)
    elif result.worst_group is not None and result.best_group is not None:
        parts.append(f"{worst_label} {result.worst_group}, {best_label} {result.best_group}")
    parts.append(sentence)
    parts.extend(n for n in notes if n)
    if small:
        parts.append(small)
    return check.judge(subject, value, threshold=threshold, op=op, what=what, evidence=ev, note="; ".join(parts))


def skip_attributes(check: Check, base: str, skipped: Mapping[str, str], wanted: Sequence[str] | None) -> list[Outcome]:
    """Skips for attributes that cannot be compared (a raw attribute with a banded twin is silent)."""
    return [
        check.skip(f"{base}/by:{a}", reason)
        for a, reason in skipped.items()
        if (wanted is not None and a in wanted) or (wanted is None and not reason.startswith(BANDED_VERSION))
    ]


def no_groups(check: Check, base: str, skipped: Mapping[str, str]) -> Outcome:
    """A skip for a model that records no usable protected attribute."""
    if skipped:
        why = "; ".join(f"{a}: {r}" for a, r in skipped.items())
        return check.skip(base, f"no protected attribute can be compared ({why})", evidence={"attributes_left_out": dict(skipped)})
    return check.skip(base, "no protected attributes are recorded with the model: declare roles.protected for its dataset")


def protected_groupings(
    check: Check, label: str, frame: pd.DataFrame | None, artifact: Any, ctx: AuditContext, wanted: Sequence[str] | None
) -> tuple[list[Grouping], list[Outcome]]:
    """The groupings of ``frame``'s protected attributes and the skips to report before them.

    Without a grouping the skips end with the one for a model that records no
    usable protected attribute.
    """
    if frame is None or frame.shape[1] == 0:
        return [], [no_groups(check, label, {})]
    groups, skipped, _ = groupings(frame, artifact, ctx, wanted)
    skips = skip_attributes(check, label, skipped, wanted)
    if not groups:
        skips.append(no_groups(check, label, skipped))
    return groups, skips


def outcome(subject: str, status: Status, message: str, **kw: Any) -> Outcome:
    return Outcome(subject=subject, status=status, message=message, **kw)
