"""`crm-audit explain`: every automated decision about one customer, with its reasons.

The output answers a data-subject access request (GDPR Art. 15(1)(h), 22; EU AI Act Art. 86;
PIPL Art. 24(3)): the decisions, the principal reasons in plain language, the data used. Other
people's identifiers (neighbouring customers in collaborative filtering) are masked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.checks.explain.checks import excluded_features, mask_id
from audit.core.check import REGISTRY
from audit.core.context import AuditContext
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.finding import to_plain
from audit.core.types import Status

REGULATIONS = ["GDPR Art. 15(1)(h)", "GDPR Art. 22", "EU AI Act Art. 86", "PIPL Art. 24(3)", "Reg B 12 CFR 1002.9(b)(2)"]
REASONS_CHECK = "explain.reason_codes"
EXCLUSION_CHECK_FAILED = "cannot tell which features may not be stated as reasons: {check} on {subject}: {message}"


class ExplainError(RuntimeError):
    """A measurement the explanation depends on failed; the document would contradict the audit report."""


def measure_exclusions(ctx: AuditContext, policy: Any) -> list[str]:
    """Run the policy's checks that find proxies and direct identifiers, exactly as ``run`` does.

    Their facts (``ctx.facts``) decide which features a stated reason may never be, so
    ``explain`` and the audit report agree on the same thresholds (e.g. the policy's
    ``flag_at`` for Cramér's V). Returns the ids of the checks run.
    """
    from dataclasses import replace

    from audit.runner import run_checks

    wanted = set(REGISTRY.get(REASONS_CHECK).meta.requires)
    chosen = {cid: rc for cid, rc in policy.checks.items() if wanted & set(REGISTRY.get(cid).meta.provides)}
    if not chosen:
        return []
    findings, _waivers, _timings = run_checks(ctx, replace(policy, checks=chosen, waivers=[]))
    for f in findings:
        if f.status is Status.ERROR:
            raise ExplainError(EXCLUSION_CHECK_FAILED.format(check=f.check_id, subject=f.subject, message=f.message))
    return sorted(chosen)


def _customer_frame(ctx: AuditContext) -> tuple[pd.DataFrame, str]:
    demo = ctx.demo
    if demo is not None:
        from audit.crm.demo import customer_frame

        return customer_frame(demo), "customer_id"
    for ds in ctx.datasets.values():
        if ds.roles.id and any(getattr(m, "dataset", None) == ds.name for m in ctx.models):
            return ds.frame, ds.roles.id
    for ds in ctx.datasets.values():
        if ds.roles.id:
            return ds.frame, ds.roles.id
    raise AuditInputError(ErrorItem(file="audit.yaml", path="datasets.*.roles.id", message="no dataset declares an id column", hint="declare roles.id so customers can be looked up"))


def _classifier_decision(ctx: AuditContext, art: Any, row: pd.DataFrame, mapping: dict[str, str]) -> dict[str, Any]:
    from audit.explain import adverse_direction, explain_classifier, explain_regressor, reason_codes

    X = row[list(art.features)].reset_index(drop=True)
    if art.kind == "regressor":
        value = float(art.estimator.predict(X)[0])
        one = dataclasses.replace(art, X_eval=X, y_true=np.array([np.nan]), y_pred=np.array([value]), ids=np.array([row.index[0]]), sensitive=art.sensitive.iloc[:0])
        exp = explain_regressor(one, rows=[0], seed=ctx.seed)
        contrib = sorted(zip(exp.feature_names, exp.values[0]), key=lambda kv: -abs(kv[1]))[:4]
        return {"model": art.name, "kind": "regressor", "purpose": art.purpose, "prediction": round(value, 2), "main_factors": [{"feature": f, "effect": round(float(v), 3)} for f, v in contrib]}
    score = float(art.estimator.predict_proba(X)[0, 1])
    flagged = score >= art.threshold
    pred = art.positive_label if flagged else _other(art)
    one = dataclasses.replace(art, X_eval=X, y_true=np.array([pred]), y_pred=np.array([pred]), y_score=np.array([score]), ids=np.array(["self"], dtype=object), sensitive=art.sensitive.iloc[:0])
    adverse = not bool(one.favourable_mask()[0])
    out: dict[str, Any] = {
        "model": art.name,
        "kind": "classifier",
        "algorithm": art.algorithm,
        "purpose": art.purpose,
        "score": round(score, 4),
        "threshold": art.threshold,
        "decision": "flagged (adverse)" if adverse else "not flagged (favourable)",
        "adverse": adverse,
    }
    protected, proxies, identifiers = excluded_features(ctx, art)
    excluded = protected | proxies | identifiers
    exp = explain_classifier(one, rows=[0], seed=ctx.seed)
    codes = reason_codes(exp, adverse_mask=np.array([True]), direction=adverse_direction(art) if adverse else ("negative" if adverse_direction(art) == "positive" else "positive"), excluded_features=excluded, mapping=mapping)
    code = codes[0] if codes else None
    out["reasons"] = [r.text for r in code.reasons] if code else []
    out["reasons_title"] = "Principal reasons for this decision" if adverse else "Main factors in your favour"
    if code and code.excluded_in_top:
        out["withheld_protected_or_proxy_drivers"] = list(code.excluded_in_top)
        out["note"] = "Some of the strongest drivers of this decision are protected characteristics or their proxies; they are not valid reasons and have been reported to the controller."
    out["explainer"] = exp.explainer
    return out


def _other(art: Any) -> Any:
    values = [v for v in pd.unique(pd.Series(art.y_true)) if v != art.positive_label]
    return values[0] if values else 0


def explain_customer(ctx: AuditContext, customer_id: str) -> dict[str, Any]:
    frame, id_col = _customer_frame(ctx)
    match = frame[frame[id_col].astype(str) == str(customer_id)]
    if match.empty:
        raise AuditInputError(ErrorItem(file="<command line>", path="--id", message=f"unknown customer id {customer_id!r}", hint=f"ids are values of the {id_col!r} column, e.g. {frame[id_col].iloc[0]!r}"))
    row = match.iloc[[0]]
    mapping = dict(ctx.reason_code_mapping)
    decisions: list[dict[str, Any]] = []
    used_features: set[str] = set()
    for art in ctx.models:
        try:
            if art.kind in ("classifier", "regressor"):
                if art.estimator is None:
                    decisions.append({"model": art.name, "kind": art.kind, "note": "this model was audited from its predictions only; its reasons cannot be computed here"})
                    continue
                decisions.append(_classifier_decision(ctx, art, row, mapping))
                used_features |= set(art.features)
            elif art.kind == "segmentation":
                decisions.append(_segment_decision(art, customer_id))
                used_features |= set(art.X.columns)
            elif art.kind == "recommender":
                decisions.append(_recommendations(art, customer_id))
            elif art.kind == "text_classifier":
                decisions.extend(_texts(ctx, art, customer_id))
        except AuditInputError:
            raise
        except Exception as exc:  # one model failing must not hide the other decisions
            decisions.append({"model": art.name, "kind": art.kind, "error": f"{type(exc).__name__}: {exc}"})
    data = {k: to_plain(v) for k, v in row.iloc[0].items() if k in used_features or k == id_col}
    return {
        "customer_id": str(customer_id),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "regulations": REGULATIONS,
        "decisions": [d for d in decisions if d],
        "data_used": data,
        "your_rights": [
            "You may ask for a person to review any of these decisions and contest it (GDPR Art. 22(3); PIPL Art. 24(3)).",
            "You may object to profiling for direct marketing at any time (GDPR Art. 21(2)-(3)) and opt out of personalised recommendations (PIPL Art. 24(2)).",
            "You may ask for incorrect data to be corrected (GDPR Art. 16).",
        ],
    }


def _segment_decision(art: Any, customer_id: str) -> dict[str, Any] | None:
    from audit.explain import explain_segment

    ids = [str(i) for i in art.ids]
    if str(customer_id) not in ids:
        return {"model": art.name, "kind": "segmentation", "note": "you were not part of the data this segmentation was built on"}
    idx = ids.index(str(customer_id))
    exp = explain_segment(art, idx)
    treat = (art.treatment or {}).get(int(exp.segment)) if art.treatment else None
    top = exp.features.head(3)
    factors = [str(f) for f in (top["feature"] if "feature" in top.columns else top.index)]
    out = {"model": art.name, "kind": "segmentation", "purpose": art.purpose, "segment": int(exp.segment), "method": exp.method, "main_factors": factors}
    if treat is not None:
        out["treatment"] = str(treat)
    if exp.rules:
        out["rules"] = to_plain(exp.rules)
    return out


def _recommendations(art: Any, customer_id: str) -> dict[str, Any]:
    from audit.explain import explain_recommendation

    recs = art.recommendations
    mine = recs[recs["user_id"].astype(str) == str(customer_id)].sort_values("rank")
    if mine.empty:
        return {"model": art.name, "kind": "recommender", "purpose": art.purpose, "note": "no personalised recommendations are made for you (no rating history, or you opted out of profiling)"}
    items = []
    for _, r in mine.head(5).iterrows():
        entry: dict[str, Any] = {"item": str(r["item_id"]), "rank": int(r["rank"]), "price": to_plain(r.get("price"))}
        try:
            ex = explain_recommendation(art, r["user_id"], r["item_id"], top_n=3)
            entry["because"] = {
                "similar_customers": [mask_id(n["user_id"]) for n in ex.neighbours[:3]],
                "items_you_rated": [str(s["item_id"]) for s in ex.similar_items[:3]],
            }
        except Exception:
            pass
        items.append(entry)
    return {"model": art.name, "kind": "recommender", "purpose": art.purpose, "recommendations": items, "note": "other customers are identified only by masked numbers"}


def _texts(ctx: AuditContext, art: Any, customer_id: str) -> list[dict[str, Any]]:
    from audit.explain import explain_text

    demo = ctx.demo
    table = None
    if demo is not None:
        table = demo.feedback if "feedback" in art.dataset else demo.tickets
    elif art.dataset in ctx.datasets:
        table = ctx.datasets[art.dataset].frame
    if table is None or "customer_id" not in table.columns or "text" not in table.columns:
        return []
    mine = table[table["customer_id"].astype(str) == str(customer_id)]
    out = []
    for text in mine["text"].astype(str).head(5):
        probs = art.predict_proba([text])[0]
        label = art.labels[int(np.argmax(probs))]
        ex = explain_text(art, text, top_n=5)
        out.append({"model": art.name, "kind": "text_classifier", "purpose": art.purpose, "your_text": text, "classified_as": str(label), "probability": round(float(np.max(probs)), 3), "words_that_mattered": [t for t, _ in ex.tokens]})
    return out


def explain_command(args: argparse.Namespace) -> int:
    from audit.app import RunOptions, build_context, resolve_run_policy

    opts = RunOptions(config=args.config, policies=tuple(args.policy or ()), demo_customers=args.customers, seed=args.seed)
    policy = resolve_run_policy(opts)
    ctx, _names, _inputs, _run = build_context(opts)
    try:
        measured = measure_exclusions(ctx, policy)
    except ExplainError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    doc = explain_customer(ctx, args.id)
    doc["excluded_from_reasons_by"] = measured
    if args.format == "json":
        data: str | bytes = json.dumps(to_plain(doc), indent=2, ensure_ascii=False) + "\n"
    else:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        from audit.resources import templates_dir

        env = Environment(loader=FileSystemLoader(str(templates_dir())), autoescape=select_autoescape(["html", "j2"]))
        html = env.get_template("explain.html.j2").render(d=to_plain(doc))
        if args.format == "html":
            data = html
        else:
            from weasyprint import HTML

            data = HTML(string=html).write_pdf()
    if args.out:
        from audit.reporters.atomic import write_atomic

        write_atomic(Path(args.out), data)
        sys.stderr.write(f"wrote {args.out}\n")
    elif isinstance(data, bytes):
        raise AuditInputError(ErrorItem(file="<command line>", path="--out", message="PDF output needs --out FILE"))
    else:
        sys.stdout.write(data)
    failed = [f"{d['model']}: {d['error']}" for d in doc["decisions"] if "error" in d]
    if failed:
        sys.stderr.write("error: the decisions of some models could not be explained:\n  " + "\n  ".join(failed) + "\n")
        return 1
    return 0
