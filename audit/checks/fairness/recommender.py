"""Fairness of recommenders: user-side quality, item-side exposure, popularity, price, opt-out."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from audit.checks.fairness._common import (
    Grouping,
    GroupParams,
    clarity,
    fairness_outcome,
    fmt_ci,
    fmt_p,
    group_rows,
    num,
    protected_groupings,
    small_groups_note,
)
from audit.core.check import Check, CheckMeta, CheckParams, fmt, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.fairness import (
    exposure_parity,
    popularity_bias,
    price_differential,
    quality_gap,
    quality_per_user,
)

QUALITY_METRICS = ("ndcg_at_k", "precision_at_k", "recall_at_k")
# one identical list served to at least this many opted-out users counts as non-personalised
SHARED_LIST_MIN_USERS = 5


# ---------------------------------------------------------------------------
# helpers


def cutoff(art: Any, k: int | None = None) -> int:
    """The list length judged: ``k`` when given, else the artifact's k (default 10)."""
    return k or int(getattr(art, "k", 10) or 10)


def rec_lists(art: Any, k: int | None = None) -> dict[Any, list[Any]]:
    """Ordered recommendation list per user (first-appearance order of users), cut at k."""
    recs = art.recommendations
    cut = k or getattr(art, "k", None)
    if cut:
        recs = recs[recs["rank"] <= cut]
    if recs.empty:
        return {}
    codes, uniques = pd.factorize(recs["user_id"].to_numpy(dtype=object))
    order = np.lexsort((recs["rank"].to_numpy(), codes))
    items = recs["item_id"].to_numpy(dtype=object)[order]
    starts = np.searchsorted(codes[order], np.arange(len(uniques)))
    chunks = np.split(items, starts[1:])
    return {u: list(c) for u, c in zip(uniques, chunks, strict=True)}


def relevant_items(art: Any, threshold: float, users: set[Any] | None = None) -> dict[Any, list[Any]]:
    """Held-out items a user rated at least ``threshold``."""
    test = art.test_ratings
    if test is None or test.empty or "rating" not in test.columns:
        return {}
    liked = test[test["rating"].astype(float) >= threshold]
    if users is not None:
        liked = liked[liked["user_id"].isin(users)]
    return {u: list(items) for u, items in liked.groupby("user_id", sort=False)["item_id"]}


def user_attributes(art: Any) -> pd.DataFrame:
    """Protected attributes per user, indexed by user id."""
    us = getattr(art, "user_sensitive", None)
    if us is not None and not us.empty:
        return us
    sens = getattr(art, "sensitive", None)
    ids = getattr(art, "ids", None)
    if sens is not None and not sens.empty and ids is not None and len(ids) == len(sens):
        return sens.set_index(pd.Index(np.asarray(ids, dtype=object), name="user_id"))
    return pd.DataFrame()


def user_series(frame: pd.DataFrame, g: Grouping) -> pd.Series:
    return pd.Series(g.labels, index=frame.index)


def t_interval(values: np.ndarray, confidence: float, *, floor: float | None = None) -> tuple[float | None, float | None]:
    """Student-t interval of a mean (None below two values)."""
    values = values[np.isfinite(values)]
    n = values.size
    if n < 2:
        return None, None
    m = float(values.mean())
    h = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    low = m - h if floor is None else max(floor, m - h)
    return low, m + h


class _UserGroupCheck(Check):
    def evaluate(self, subject: Subject, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        frame = user_attributes(art)
        groups, skips = protected_groupings(self, subject.label, frame, art, ctx, params.attributes)
        yield from skips
        for g in groups:
            yield from self.measure(f"{subject.label}/by:{g.attribute}", art, user_series(frame, g), g, params, ctx)

    def measure(self, label: str, art: Any, users: pd.Series, g: Grouping, params: Any, ctx: AuditContext) -> Iterable[Outcome]:
        raise NotImplementedError


# ---------------------------------------------------------------------------
# user-side quality


class QualityParams(GroupParams):
    metric: Literal["ndcg_at_k", "precision_at_k", "recall_at_k"] = Field("ndcg_at_k", description="Ranking quality compared across user groups.")
    min_ratio: float = Field(0.8, ge=0, le=1, description="Lowest acceptable ratio of the worst to the best group's mean quality.")
    relevance_threshold: float = Field(4.0, description="A held-out rating at or above this makes an item relevant.")
    k: int | None = Field(None, ge=1, description="Cut-off; default: the artifact's k.")


@register
class UserQualityGap(_UserGroupCheck):
    meta = CheckMeta(
        id="fairness.user_quality_gap",
        title="Recommendation quality across user groups (NDCG/precision/recall@k ratio)",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.RECOMMENDER,),
        regulations=("EU AI Act Art. 10", "EU AI Act Art. 15"),
        provenance=Provenance.TOOL,
        formula="per user with a relevant held-out item (rating >= relevance_threshold) and a recommendation list: NDCG@k, precision@k, recall@k; group means; value = min / max of the chosen metric over groups with n >= min_group_size; bootstrap over users; Welch's t-test worst vs best",
        default_threshold=">= 0.80 (no regulatory threshold)",
        help="A recommender that serves some customers markedly worse gives them a worse service for the same data.",
    )
    Params = QualityParams

    def measure(self, label: str, art: Any, users: pd.Series, g: Grouping, params: QualityParams, ctx: AuditContext) -> Iterable[Outcome]:
        k = cutoff(art, params.k)
        recs = rec_lists(art, k)
        served = set(recs)
        rel = relevant_items(art, params.relevance_threshold, served)
        if not rel:
            yield self.skip(label, f"no served user has a held-out item rated >= {params.relevance_threshold:g}: quality cannot be measured")
            return
        groups_map = users.to_dict()
        out = quality_gap(recs, relevant=rel, user_groups=groups_map, k=k, min_group_size=params.min_group_size, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
        res = out[f"{params.metric}_ratio"]
        per_user = quality_per_user(recs, relevant=rel, k=k)
        lab = np.asarray([str(groups_map.get(u, "unknown")) for u in per_user["user"]], dtype=object)
        values = per_user[params.metric].to_numpy(dtype=float)
        cis = [t_interval(values[lab == str(grp)], params.confidence, floor=0.0) for grp in res.by_group["group"]]
        yield fairness_outcome(
            self,
            label,
            res,
            threshold=params.min_ratio,
            op=">=",
            what=f"ratio of group mean {params.metric.replace('_at_k', '@k').replace('_', ' ')} (worst / best group)",
            column=params.metric,
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            group_ci=cis,
            evidence={
                "k": k,
                "users_evaluated": len(per_user),
                "ratios": {m: num(out[f"{m}_ratio"].value) for m in QUALITY_METRICS},
            },
        )


# ---------------------------------------------------------------------------
# item-side exposure


class ExposureParams(CheckParams):
    item_attributes: list[str] = Field(["provider", "category"], description="Item columns whose groups share exposure (e.g. provider, category).")
    min_ratio: float = Field(0.8, ge=0, le=1, description="Lowest acceptable ratio of the lowest to the highest exposure/relevance ratio.")
    relevance_threshold: float = Field(4.0, description="A held-out rating at or above this makes an item relevant.")
    min_items: int = Field(1, ge=1, description="Item groups with fewer items are shown but not judged.")
    k: int | None = Field(None, ge=1)
    n_boot: int = Field(200, ge=0, le=100_000)
    confidence: float = Field(0.95, gt=0, lt=1)


@register
class ExposureParity(Check):
    meta = CheckMeta(
        id="fairness.exposure_parity",
        title="Exposure of item groups (providers, categories) relative to their relevance",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.RECOMMENDER,),
        regulations=("PIPL Art. 24", "GDPR Art. 5(1)(a)"),
        provenance=Provenance.TOOL,
        formula="exposure of an item = sum over slots of 1/log2(1 + rank); group ratio = group share of exposure / group share of relevance (held-out ratings >= relevance_threshold of served users); value = min / max over groups (Singh & Joachims 2018); bootstrap over users",
        default_threshold=">= 0.80 (no regulatory threshold)",
        help="Exposure out of proportion to what users actually value favours some providers or categories over others.",
    )
    Params = ExposureParams

    def evaluate(self, subject: Subject, params: ExposureParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        k = cutoff(art, params.k)
        recs = rec_lists(art, k)
        rel = relevant_items(art, params.relevance_threshold, set(recs))
        items = art.item_features.set_index("item_id")
        stored = False
        for attr in params.item_attributes:
            label = f"{subject.label}/items_by:{attr}"
            if attr not in items.columns:
                yield self.skip(label, f"item catalogue has no {attr!r} column")
                continue
            if not rel:
                yield self.skip(label, f"no served user has a held-out item rated >= {params.relevance_threshold:g}: relevance unknown")
                continue
            res = exposure_parity(recs, item_groups=items[attr].to_dict(), relevant=rel, k=k, min_group_size=params.min_items, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
            bg = res.by_group
            if not stored:
                block = ctx.report.exposure
                block[art.name] = {
                    str(r["group"]): {"exposure_share": num(r["exposure_share"]), "relevance_share": num(r["relevance_share"]), "attribute": attr}
                    for r in bg.to_dict(orient="records")
                }
                stored = True
            yield fairness_outcome(
                self,
                label,
                res,
                threshold=params.min_ratio,
                op=">=",
                what=f"exposure parity across {attr} groups (lowest / highest exposure-to-relevance ratio)",
                column="exposure_ratio",
                metric_label="exposure share / relevance share",
                attribute=attr,
                min_group_size=params.min_items,
                confidence=params.confidence,
                extra_columns=("exposure_share", "relevance_share"),
                evidence={"k": k, "group_threshold": 1.0, "n_counts": "items per group"},
                groups_text=f"most under-exposed {res.worst_group}, most over-exposed {res.best_group}" if res.worst_group else None,
            )


# ---------------------------------------------------------------------------
# popularity bias


class PopularityParams(CheckParams):
    max_gini: float = Field(0.9, ge=0, le=1, description="Largest acceptable Gini coefficient of item exposure.")
    min_coverage: float = Field(0.2, ge=0, le=1, description="Smallest acceptable share of the catalogue recommended at least once.")
    head_share: float = Field(0.2, gt=0, lt=1, description="Share of the catalogue, by popularity, counted as the head.")
    k: int | None = Field(None, ge=1)
    n_boot: int = Field(200, ge=0, le=100_000)
    confidence: float = Field(0.95, gt=0, lt=1)


@register
class PopularityBias(Check):
    meta = CheckMeta(
        id="rec.popularity_bias",
        title="Popularity bias: concentration of exposure and catalogue coverage",
        category=Category.FAIRNESS,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.RECOMMENDER,),
        regulations=("EU AI Act Art. 10(2)(f)", "EU AI Act Art. 15(4)"),
        provenance=Provenance.TOOL,
        formula="Gini of position-discounted exposure over catalogue items (unexposed items included); catalogue coverage = share of items recommended at least once; average recommended popularity and long-tail share in the evidence; bootstrap over users",
        default_threshold="Gini <= 0.90 and coverage >= 0.20 (no regulatory threshold)",
        help="A recommender that keeps showing the same few items amplifies past popularity (a feedback loop) and starves the rest of the catalogue.",
    )
    Params = PopularityParams

    def evaluate(self, subject: Subject, params: PopularityParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        k = cutoff(art, params.k)
        recs = rec_lists(art, k)
        if not recs:
            yield self.skip(subject.label, "the model recorded no recommendations")
            return
        items = art.item_features
        pop = items.set_index("item_id")["popularity"].to_dict() if "popularity" in items.columns else {}
        est = popularity_bias(recs, item_popularity=pop, catalogue=list(items["item_id"]), head_share=params.head_share, k=k, n_boot=params.n_boot, confidence=params.confidence, seed=ctx.seed)
        summary = {name: e.to_dict() for name, e in est.items()}
        for metric, threshold, op, what in (
            ("exposure_gini", params.max_gini, "<=", "Gini coefficient of item exposure"),
            ("catalogue_coverage", params.min_coverage, ">=", "catalogue coverage (share of items recommended at least once)"),
        ):
            e = est[metric]
            lo, hi = num(e.ci_low), num(e.ci_high)
            clear, sentence = clarity(e.value, lo, hi, None, threshold, op, params.confidence)  # type: ignore[arg-type]
            yield self.judge(
                f"{subject.label}/metric:{metric}",
                num(e.value),
                threshold=threshold,
                op=op,  # type: ignore[arg-type]
                what=what,
                evidence={"ci": [lo, hi], "p_value": None, "statistically_clear": clear, "estimates": summary, "k": k, "catalogue_items": len(items)},
                note=sentence,
            )


# ---------------------------------------------------------------------------
# price differential


class PriceParams(GroupParams):
    min_ratio: float = Field(0.95, ge=0, le=1, description="Lowest acceptable ratio of the lowest to the highest group mean recommended price.")
    max_within_category_gap: float = Field(0.05, ge=0, description="Largest acceptable within-category price gap, as a share of the mean recommended price.")
    alpha: float = Field(0.05, gt=0, lt=1, description="A within-category gap fails only when its permutation p-value is below alpha.")
    category_column: str = Field("category", description="Item column that defines comparable items.")
    higher_price: Literal["adverse", "favourable"] = Field("adverse", description="Whether being shown pricier items is worse for the user.")
    n_permutations: int = Field(199, ge=0, le=100_000)
    k: int | None = Field(None, ge=1)


@register
class PriceDifferential(_UserGroupCheck):
    meta = CheckMeta(
        id="fairness.price_differential",
        title="Price of recommended items across user groups (raw and within category)",
        category=Category.FAIRNESS,
        severity=Severity.HIGH,
        subjects=(SubjectKind.RECOMMENDER,),
        regulations=("PIPL Art. 24(1)",),
        provenance=Provenance.TOOL,
        formula="mean price of recommended slots per user group; ratio = lowest / highest group mean (Welch's t-test on per-user means); within-category gap = largest - smallest group effect in an OLS of slot price on group dummies and category fixed effects, as a share of the mean slot price (permutation p-value)",
        default_threshold="ratio >= 0.95; within-category gap <= 5% when p < 0.05 (no regulatory threshold)",
        mode="A",
        help="PIPL Art. 24(1) forbids unreasonable differential treatment in transaction prices: showing one group pricier versions of the same kind of item is the pattern to look for.",
    )
    Params = PriceParams

    def measure(self, label: str, art: Any, users: pd.Series, g: Grouping, params: PriceParams, ctx: AuditContext) -> Iterable[Outcome]:
        k = cutoff(art, params.k)
        recs = rec_lists(art, k)
        items = art.item_features.set_index("item_id")
        if "price" in items.columns:
            price = items["price"]
        elif "price" in art.recommendations.columns:
            price = art.recommendations.drop_duplicates("item_id").set_index("item_id")["price"]
        else:
            yield self.skip(label, "no item prices recorded: the price differential cannot be measured")
            return
        category = items[params.category_column].to_dict() if params.category_column in items.columns else None
        price_map = {i: float(v) for i, v in price.dropna().items()}
        groups_map = users.to_dict()
        out = price_differential(
            recs,
            user_groups=groups_map,
            item_price=price_map,
            item_category=category,
            k=k,
            higher_price=params.higher_price,
            min_group_size=params.min_group_size,
            n_boot=params.n_boot,
            n_permutations=params.n_permutations,
            confidence=params.confidence,
            seed=ctx.seed,
        )
        ratio, gap = out["mean_price_ratio"], out["within_category_price_gap"]
        bg = ratio.by_group
        elig = bg["eligible"].to_numpy(dtype=bool)
        slots = bg["n_slots"].to_numpy(dtype=float)
        mean_price = float((bg["mean_price"].to_numpy() * slots)[elig].sum() / slots[elig].sum()) if elig.any() and slots[elig].sum() > 0 else math.nan
        price_ev = {"k": k, "mean_recommended_price": num(mean_price), "higher_price": params.higher_price}
        per_user: dict[str, list[float]] = {}
        for u, its in recs.items():
            prices = [price_map[i] for i in its if i in price_map]
            if prices:
                per_user.setdefault(str(groups_map.get(u, "unknown")), []).append(float(np.mean(prices)))
        cis = [t_interval(np.asarray(per_user.get(str(grp), []), dtype=float), params.confidence, floor=0.0) for grp in bg["group"]]
        yield fairness_outcome(
            self,
            label,
            ratio,
            threshold=params.min_ratio,
            op=">=",
            what="ratio of group mean recommended price (lowest / highest group)",
            column="mean_price",
            metric_label="mean recommended price",
            attribute=g.attribute,
            min_group_size=params.min_group_size,
            confidence=params.confidence,
            group_ci=cis,
            extra_columns=("n_slots", "within_category_effect"),
            evidence=price_ev,
            worst_label="group shown pricier items" if params.higher_price == "adverse" else "group shown cheaper items",
        )
        yield self._within(f"{label}/within:{params.category_column}", gap, mean_price, g, params, price_ev)

    def _within(self, label: str, res: Any, mean_price: float, g: Grouping, params: PriceParams, price_ev: dict[str, Any]) -> Outcome:
        scale = mean_price if mean_price and math.isfinite(mean_price) else math.nan
        bg = res.by_group.assign(relative_effect=res.by_group["within_category_effect"] / scale)
        rows = group_rows(bg, "relative_effect", extra=("within_category_effect", "mean_price", "n_slots"))
        value = num(res.value / scale) if math.isfinite(scale) else None
        lo, hi = num(res.ci_low / scale), num(res.ci_high / scale)
        p = num(res.p_value)
        ev: dict[str, Any] = {
            **price_ev,
            "attribute": g.attribute,
            "metric": "within-category price effect (share of mean price)",
            "by_group": rows,
            "ci": [lo, hi],
            "p_value": p,
            "test": res.test,
            "worst_group": res.worst_group,
            "best_group": res.best_group,
            "excluded_groups": list(res.excluded_groups),
            "gap_in_price_units": num(res.value),
            "alpha": params.alpha,
            "notes": list(res.notes),
        }
        small = small_groups_note(res.by_group, params.min_group_size)
        if value is None:
            ev["statistically_clear"] = False
            return self.skip(label, "within-category price gap could not be computed: " + ("; ".join([*res.notes, small]) or "fewer than two comparable groups"), evidence=ev)
        what = f"within-{params.category_column} price gap between groups (share of the mean recommended price)"
        pct = f"{params.confidence * 100:g}% CI {fmt_ci(lo, hi)}"
        who = f"group shown pricier items {res.worst_group}, cheapest {res.best_group}" if res.worst_group else ""
        significant = p is not None and p < params.alpha
        tail = f" ({self.meta.provenance.phrase})"
        parts = [x for x in (who, small) if x]
        if value <= params.max_within_category_gap:
            ev["statistically_clear"] = False
            msg = f"{what} {fmt(value)} <= maximum {fmt(params.max_within_category_gap)}{tail}; " + "; ".join([*parts, f"{pct}, p={fmt_p(p)}"])
            return Outcome(subject=label, status=Status.PASS, message=msg, observed=value, threshold=params.max_within_category_gap, evidence=ev)
        if not significant:
            ev["statistically_clear"] = False
            msg = (
                f"{what} {fmt(value)} > maximum {fmt(params.max_within_category_gap)}{tail} but not significant "
                f"(permutation p={fmt_p(p)} >= {params.alpha:g}): within noise; " + "; ".join([*parts, pct])
            )
            return Outcome(subject=label, status=Status.PASS, message=msg, observed=value, threshold=params.max_within_category_gap, evidence=ev)
        clear = lo is not None and lo > params.max_within_category_gap
        ev["statistically_clear"] = bool(clear)
        sentence = f"breach statistically clear ({pct}, p={fmt_p(p)})" if clear else f"gap significant (p={fmt_p(p)}) but the {pct} reaches the threshold"
        msg = f"{what} {fmt(value)} > maximum {fmt(params.max_within_category_gap)}{tail}; " + "; ".join([*parts, sentence])
        return Outcome(subject=label, status=Status.FAIL, message=msg, observed=value, threshold=params.max_within_category_gap, evidence=ev)


# ---------------------------------------------------------------------------
# opt-out of profiling


class OptOutParams(CheckParams):
    consent_column: str = Field("consent_profiling", description="Boolean column: False means the customer objected to profiling or withdrew consent.")
    min_share: float = Field(1.0, ge=0, le=1, description="Share of opted-out users who must not receive a personalised list.")
    flag_column: str = Field("personalised", description="Optional column of the recommendations marking a list as personalised (True) or not (False).")


def consent_table(ctx: AuditContext, column: str) -> pd.Series | None:
    """Consent flag per customer id, from the first dataset that records it."""
    frames: list[tuple[pd.DataFrame, str | None]] = []
    for ds in ctx.datasets.values():
        frames.append((ds.frame, ds.roles.id))
    customers = ctx.customers_frame
    if customers is not None:
        frames.append((customers, "customer_id" if "customer_id" in customers.columns else None))
    for frame, id_col in frames:
        if column in frame.columns and id_col and id_col in frame.columns:
            flags = frame[[id_col, column]].dropna(subset=[id_col]).drop_duplicates(id_col)
            return pd.Series(flags[column].to_numpy(), index=flags[id_col].to_numpy(dtype=object))
    return None


def _as_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "y", "t"]) | (values == 1)


@register
class NonPersonalisedOption(Check):
    meta = CheckMeta(
        id="rec.non_personalised_option",
        title="Users who objected to profiling receive no personalised recommendations",
        category=Category.PRIVACY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.RECOMMENDER,),
        regulations=("PIPL Art. 24(2)", "GDPR Art. 21(2)", "GDPR Art. 21(3)"),
        provenance=Provenance.LAW,
        formula="among users known to the model (served or in held-out ratings) whose consent flag is False: share who got no list from the model or a non-personalised one (flagged non-personalised, the catalogue's top-k by popularity, or one list served identically to every opted-out user, when at least five are served)",
        default_threshold="100% (law)",
        help="Customers can object to profiling for direct marketing (GDPR Art. 21) and must be offered options that do not target their personal characteristics (PIPL Art. 24(2)).",
    )
    Params = OptOutParams

    def evaluate(self, subject: Subject, params: OptOutParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        consent = consent_table(ctx, params.consent_column)
        if consent is None:
            yield self.skip(subject.label, f"no dataset records {params.consent_column!r} next to a customer id: opt-outs cannot be checked (declare the column in the policy params)")
            return
        consent = _as_bool(consent)
        recs = art.recommendations
        served_lists = rec_lists(art)
        known = set(served_lists)
        if art.test_ratings is not None and "user_id" in art.test_ratings.columns:
            known |= set(art.test_ratings["user_id"])
        us = user_attributes(art)
        known |= set(us.index)
        opted_out = sorted(u for u in known if u in consent.index and not bool(consent[u]))
        if not opted_out:
            yield self.skip(subject.label, f"no user known to the model has {params.consent_column} = False: nothing to check", evidence={"users_known": len(known)})
            return
        k = cutoff(art)
        items = art.item_features
        popular: set[Any] = set()
        if "popularity" in items.columns:
            popular = set(items.sort_values("popularity", ascending=False, kind="stable")["item_id"].head(k))
        served_out = [u for u in opted_out if u in served_lists]
        shared_list = None
        if len(served_out) >= SHARED_LIST_MIN_USERS:
            first = served_lists[served_out[0]]
            if all(served_lists[u] == first for u in served_out):
                shared_list = first
        flags = None
        if params.flag_column in recs.columns:
            flags = recs.groupby("user_id")[params.flag_column].agg(lambda s: bool(_as_bool(s).any()))
        personalised = []
        for u in served_out:
            items_u = served_lists[u]
            if flags is not None and u in flags.index:
                is_personal = bool(flags[u])
            else:
                is_personal = not ((popular and set(items_u) == popular) or shared_list is not None)
            if is_personal:
                personalised.append(u)
        n = len(opted_out)
        ok = n - len(personalised)
        share = ok / n
        evidence = {
            "opted_out_users": n,
            "served_by_model": len(served_out),
            "not_served": n - len(served_out),
            "served_personalised": len(personalised),
            "example_user_ids": [str(u) for u in personalised[:20]],
            "users_known_to_model": len(known),
            "consent_column": params.consent_column,
        }
        if personalised:
            note = f"{len(personalised)} of {n} opted-out users received a personalised list from this model"
        elif served_out:
            note = f"{len(served_out)} opted-out users received a non-personalised list; {n - len(served_out)} received no list from this model"
        else:
            note = (
                f"none of the {n} opted-out users received a list from this model; whether they are offered a "
                "non-personalised alternative elsewhere is not visible in the model outputs"
            )
        yield self.judge(subject.label, share, threshold=params.min_share, op=">=", what="share of opted-out users without a personalised list", evidence=evidence, note=note)
