"""Fairness of recommendations: user-side quality, item-side exposure, popularity, price.

Recommendations are given as a mapping ``user -> ordered items`` (rank 1
first) or a DataFrame with columns ``user``, ``item``, ``rank``. Users are the
unit of every bootstrap: replicates resample users with replacement (within
each user group when the figure compares user groups).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse, stats

from audit.fairness._stats import (
    bonferroni,
    bootstrap_unit_sums,
    check_bootstrap_args,
    check_min_group_size,
    gap,
    interval,
    make_rng,
    resample_weight_chunks,
)
from audit.fairness.groups import UNKNOWN, GroupLabels, as_groups
from audit.fairness.results import Estimate, FairnessResult, group_result, group_table, too_few_groups

Recommendations = Mapping[Hashable, Sequence[Hashable]] | pd.DataFrame

BAD_K = "k must be a positive integer, got {value!r}"
BAD_REC_FRAME = "a recommendations DataFrame needs the columns 'user', 'item' and 'rank'"
NEED_RELEVANCE = "exposure parity needs item_relevance or relevant"
BAD_HEAD_SHARE = "head_share must be in (0, 1), got {value!r}"
BAD_HIGHER_PRICE = "higher_price must be 'adverse' or 'favourable', got {value!r}"
NO_USERS = "no user has any relevant item: quality cannot be measured"
NO_PRICED_SLOTS = "no recommended item has a price"
EMPTY_CATALOGUE = "the catalogue is empty"


def _check_k(k: int | None, *, required: bool) -> None:
    if k is None and not required:
        return
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(BAD_K.format(value=k))


def _lists(recommendations: Recommendations, k: int | None) -> dict[Hashable, list[Hashable]]:
    out: dict[Hashable, list[Hashable]]
    if isinstance(recommendations, pd.DataFrame):
        if not {"user", "item", "rank"} <= set(recommendations.columns):
            raise ValueError(BAD_REC_FRAME)
        ordered = recommendations.sort_values(["user", "rank"], kind="stable")
        out = {u: list(grp["item"]) for u, grp in ordered.groupby("user", sort=False)}
    else:
        out = {u: list(items) for u, items in recommendations.items()}
    if k is not None:
        out = {u: items[:k] for u, items in out.items()}
    return out


def _user_groups(users: Sequence[Hashable], user_groups: Mapping[Hashable, object] | pd.Series) -> GroupLabels:
    get = user_groups.get
    labels = [get(u, None) for u in users]
    if not labels:
        raise ValueError(NO_USERS)
    return as_groups(np.asarray(labels, dtype=object))


def _welch(a: np.ndarray, b: np.ndarray) -> Any:
    """Welch's t-test, silent on constant samples."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return stats.ttest_ind(a, b, equal_var=False)


def _discount(n: int) -> np.ndarray:
    """Position weights ``1 / log2(1 + rank)`` for ranks 1..n."""
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=float))


def _group_means_result(
    *,
    name: str,
    column: str,
    g: GroupLabels,
    values: np.ndarray,
    kind: Literal["difference", "ratio"],
    lower_is_worse: bool,
    min_group_size: int,
    n_boot: int,
    confidence: float,
    rng: np.random.Generator,
    ci_method: str,
    extra: dict[str, np.ndarray] | None = None,
    notes: Sequence[str] = (),
) -> FairnessResult:
    """Gap of per-unit means between groups, stratified bootstrap, Welch test."""
    sizes = g.sizes
    means = np.bincount(g.codes, weights=values, minlength=g.n_groups) / sizes
    eligible = sizes >= min_group_size
    value = float(gap(np.where(eligible, means, np.nan), kind))
    value_all = float(gap(means, kind))
    worst = best = None
    p_value, test_name = math.nan, "none"
    ok = eligible & ~np.isnan(means)
    if ok.any():
        lo = int(np.argmin(np.where(ok, means, np.inf)))
        hi = int(np.argmax(np.where(ok, means, -np.inf)))
        iw, ib = (lo, hi) if lower_is_worse else (hi, lo)
        worst, best = g.names[iw], g.names[ib]
        a, b = values[g.codes == iw], values[g.codes == ib]
        if iw != ib and a.size >= 2 and b.size >= 2:
            res = _welch(a, b)
            p_value = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
            test_name = "welch_t"
    ci_low = ci_high = math.nan
    if n_boot > 0 and math.isfinite(value):
        sums = bootstrap_unit_sums(values, g.codes, g.n_groups, n_boot, rng)[..., 0]
        reps = gap(np.where(eligible, sums / sizes, np.nan), kind)
        bounds = (0.0, 1.0) if kind == "ratio" else (0.0, math.inf)
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=bounds)
    return group_result(
        metric=name,
        names=g.names,
        eligible=eligible,
        value=value,
        value_all=value_all,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        by_group=group_table(g.names, sizes, column, means, eligible, extra),
        worst=worst,
        best=best,
        confidence=confidence,
        n_boot=n_boot,
        test=test_name,
        notes=[*notes, *too_few_groups(eligible)],
    )


# ---------------------------------------------------------------------------
# User-side quality
# ---------------------------------------------------------------------------


def quality_per_user(
    recommendations: Recommendations,
    *,
    relevant: Mapping[Hashable, Collection[Hashable]],
    k: int = 10,
) -> pd.DataFrame:
    """Precision@k, recall@k and NDCG@k of every user with a relevant item.

    ``precision@k = hits / k``; ``recall@k = hits / |relevant|``;
    ``NDCG@k = DCG / IDCG`` with binary gains and ``1 / log2(1 + rank)``
    discounts, IDCG over ``min(k, |relevant|)`` ideal positions. A user
    without recommendations scores 0; users with no relevant item are skipped.

    Returns
    -------
    DataFrame
        ``user, n_relevant, hits, precision_at_k, recall_at_k, ndcg_at_k``.
    """
    _check_k(k, required=True)
    lists = _lists(recommendations, k)
    disc = _discount(k)
    ideal = np.cumsum(disc)
    rows = []
    for user, rel in relevant.items():
        rel_set = set(rel)
        if not rel_set:
            continue
        seen: set[Hashable] = set()
        dcg = 0.0
        hits = 0
        for pos, item in enumerate(lists.get(user, [])):
            if item in rel_set and item not in seen:
                hits += 1
                dcg += disc[pos]
            seen.add(item)
        idcg = ideal[min(k, len(rel_set)) - 1]
        rows.append((user, len(rel_set), hits, hits / k, hits / len(rel_set), dcg / idcg))
    return pd.DataFrame(rows, columns=["user", "n_relevant", "hits", "precision_at_k", "recall_at_k", "ndcg_at_k"])


def quality_gap(
    recommendations: Recommendations,
    *,
    relevant: Mapping[Hashable, Collection[Hashable]],
    user_groups: Mapping[Hashable, object] | pd.Series,
    k: int = 10,
    min_group_size: int = 30,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> dict[str, FairnessResult]:
    """Recommendation quality across user groups: min/max ratio of group means.

    Parameters
    ----------
    recommendations : mapping or DataFrame
        Ordered recommendations per user.
    relevant : mapping of user to collection of items
        Held-out relevant items per user; users with none are skipped.
    user_groups : mapping or Series of user to group label
        Users missing from it form the ``"unknown"`` group.
    k : int
        Cut-off.
    min_group_size : int
        Groups with fewer evaluated users are excluded from ``value``.
    n_boot, confidence, seed, ci_method
        Bootstrap over users, stratified by group.

    Returns
    -------
    dict
        ``"precision_at_k_ratio"``, ``"recall_at_k_ratio"``, ``"ndcg_at_k_ratio"``;
        ``p_value`` is Welch's t-test of the worst against the best group.
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)
    per_user = quality_per_user(recommendations, relevant=relevant, k=k)
    if per_user.empty:
        raise ValueError(NO_USERS)
    g = _user_groups(list(per_user["user"]), user_groups)
    rng = make_rng(seed)
    out = {}
    for column in ("precision_at_k", "recall_at_k", "ndcg_at_k"):
        out[f"{column}_ratio"] = _group_means_result(
            name=f"{column}_ratio",
            column=column,
            g=g,
            values=per_user[column].to_numpy(dtype=float),
            kind="ratio",
            lower_is_worse=True,
            min_group_size=min_group_size,
            n_boot=n_boot,
            confidence=confidence,
            rng=rng,
            ci_method=ci_method,
            notes=(f"k={k}",),
        )
    return out


# ---------------------------------------------------------------------------
# Item-side exposure
# ---------------------------------------------------------------------------


def item_exposure(recommendations: Recommendations, *, k: int | None = None) -> pd.Series:
    """Exposure of every recommended item: ``sum over slots of 1 / log2(1 + rank)``."""
    _check_k(k, required=False)
    lists = _lists(recommendations, k)
    total: dict[Hashable, float] = {}
    longest = max((len(v) for v in lists.values()), default=0)
    disc = _discount(longest)
    for items in lists.values():
        for pos, item in enumerate(items):
            total[item] = total.get(item, 0.0) + disc[pos]
    return pd.Series(total, dtype=float, name="exposure")


def exposure_parity(
    recommendations: Recommendations,
    *,
    item_groups: Mapping[Hashable, object] | pd.Series,
    item_relevance: Mapping[Hashable, float] | pd.Series | None = None,
    relevant: Mapping[Hashable, Collection[Hashable]] | None = None,
    k: int | None = None,
    min_group_size: int = 1,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> FairnessResult:
    """Exposure parity across item or provider groups (Singh & Joachims, 2018).

    Each group's share of total exposure is divided by its share of total
    relevance; the value is the lowest over the highest of these ratios
    (1 = exposure proportional to merit).

    Parameters
    ----------
    recommendations : mapping or DataFrame
        Ordered recommendations per user.
    item_groups : mapping or Series of item to group label
        Items not in it form the ``"unknown"`` group.
    item_relevance : mapping or Series of item to float, optional
        Merit of each item (fixed). Takes precedence over ``relevant``.
    relevant : mapping of user to collection of items, optional
        Relevance of an item = number of users for whom it is relevant
        (resampled with the users in the bootstrap).
    k : int, optional
        Cut-off applied to every list.
    min_group_size : int
        Groups with fewer items are excluded from ``value``.
    n_boot, confidence, seed, ci_method
        Bootstrap over users (all users together).

    Returns
    -------
    FairnessResult
        ``by_group`` has ``group, n (items), exposure, exposure_share,
        relevance_share, exposure_ratio, eligible``. Groups with no relevance
        are excluded. No significance test (``p_value`` NaN).
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)
    _check_k(k, required=False)
    if item_relevance is None and relevant is None:
        raise ValueError(NEED_RELEVANCE)
    lists = _lists(recommendations, k)
    items: dict[Hashable, int] = {}
    for item in list(item_groups.keys()):
        items.setdefault(item, len(items))
    for seq in lists.values():
        for item in seq:
            items.setdefault(item, len(items))
    source_rel = item_relevance if item_relevance is not None else None
    if source_rel is not None:
        for item in source_rel.keys():  # noqa: SIM118 - a Series iterates values
            items.setdefault(item, len(items))
    elif relevant is not None:
        for rel in relevant.values():
            for item in rel:
                items.setdefault(item, len(items))
    item_list = list(items)
    get = item_groups.get
    ig = as_groups(np.asarray([get(i, None) for i in item_list], dtype=object))
    item_code = ig.codes
    users = list(dict.fromkeys([*lists.keys(), *((relevant or {}).keys() if source_rel is None else [])]))
    n_users, G = len(users), ig.n_groups
    longest = max((len(v) for v in lists.values()), default=0)
    disc = _discount(longest)
    exp_u = np.zeros((n_users, G))
    rel_u = np.zeros((n_users, G))
    for row, user in enumerate(users):
        for pos, item in enumerate(lists.get(user, [])):
            exp_u[row, item_code[items[item]]] += disc[pos]
        if source_rel is None and relevant is not None:
            for item in set(relevant.get(user, ())):
                rel_u[row, item_code[items[item]]] += 1.0
    if source_rel is not None:
        merit = np.zeros(G)
        for item, val in source_rel.items():
            merit[item_code[items[item]]] += float(val)
    else:
        merit = rel_u.sum(axis=0)

    def ratios(exposure: np.ndarray, relevance: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            e_share = exposure / exposure.sum(axis=-1, keepdims=True)
            r_share = relevance / relevance.sum(axis=-1, keepdims=True)
            return np.where(r_share > 0, e_share / r_share, np.nan)

    exposure = exp_u.sum(axis=0)
    ratio = ratios(exposure, merit)
    eligible = (ig.sizes >= min_group_size) & ~np.isnan(ratio)
    value = float(gap(np.where(eligible, ratio, np.nan), "ratio"))
    value_all = float(gap(ratio, "ratio"))
    ok = eligible
    worst = best = None
    if ok.any():
        worst = ig.names[int(np.argmin(np.where(ok, ratio, np.inf)))]
        best = ig.names[int(np.argmax(np.where(ok, ratio, -np.inf)))]
    ci_low = ci_high = math.nan
    if n_boot > 0 and math.isfinite(value) and n_users > 0:
        rng = make_rng(seed)
        stacked = np.hstack([exp_u, rel_u])
        sums = bootstrap_unit_sums(stacked, np.zeros(n_users, dtype=np.int64), 1, n_boot, rng)[:, 0, :]
        rep_exp = sums[:, :G]
        rep_rel = sums[:, G:] if source_rel is None else np.broadcast_to(merit, rep_exp.shape)
        reps = gap(np.where(eligible, ratios(rep_exp, rep_rel), np.nan), "ratio")
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=(0.0, 1.0))
    total_e = exposure.sum()
    total_r = merit.sum()
    by_group = pd.DataFrame(
        {
            "group": list(ig.names),
            "n": ig.sizes,
            "exposure": exposure,
            "exposure_share": exposure / total_e if total_e > 0 else np.nan,
            "relevance_share": merit / total_r if total_r > 0 else np.nan,
            "exposure_ratio": ratio,
            "eligible": eligible,
        }
    )
    notes = []
    no_rel = [ig.names[i] for i in np.flatnonzero(np.isnan(ratio))]
    if no_rel:
        notes.append(f"no relevance (ratio undefined) for: {', '.join(no_rel)}")
    return group_result(
        metric="exposure_parity_ratio",
        names=ig.names,
        eligible=eligible,
        value=value,
        value_all=value_all,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=math.nan,
        by_group=by_group,
        worst=worst,
        best=best,
        confidence=confidence,
        n_boot=n_boot,
        test="none",
        notes=notes,
    )


# ---------------------------------------------------------------------------
# Popularity bias
# ---------------------------------------------------------------------------


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, -> 1 = concentrated)."""
    x = np.sort(np.asarray(values, dtype=float), axis=-1)
    n = x.shape[-1]
    total = x.sum(axis=-1)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (x * weights).sum(axis=-1) / (n * total)
    return np.where(total > 0, out, np.nan)  # type: ignore[return-value]


def popularity_bias(
    recommendations: Recommendations,
    *,
    item_popularity: Mapping[Hashable, float] | pd.Series,
    catalogue: Collection[Hashable] | None = None,
    head_share: float = 0.2,
    k: int | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> dict[str, Estimate]:
    """Popularity bias of a recommender.

    Parameters
    ----------
    recommendations : mapping or DataFrame
        Ordered recommendations per user.
    item_popularity : mapping or Series of item to float
        Popularity (e.g. interaction count); unknown items count as 0.
    catalogue : collection of items, optional
        Items that could be recommended; default: ``item_popularity``'s items
        plus every recommended item.
    head_share : float
        Share of the catalogue, by popularity, forming the head (ties at the
        boundary join the head); every other item is long tail.
    k : int, optional
        Cut-off applied to every list.
    n_boot, confidence, seed, ci_method
        Bootstrap over users.

    Returns
    -------
    dict of str to Estimate
        ``"average_recommended_popularity"`` (mean over users of the mean
        popularity of their list), ``"long_tail_share"`` (share of slots with a
        long-tail item), ``"exposure_gini"`` (Gini of position-discounted
        exposure over catalogue items, unexposed items included) and
        ``"catalogue_coverage"`` (share of catalogue items recommended at least once).
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    _check_k(k, required=False)
    if not 0.0 < head_share < 1.0:
        raise ValueError(BAD_HEAD_SHARE.format(value=head_share))
    lists = {u: v for u, v in _lists(recommendations, k).items() if len(v) > 0}
    if catalogue is None:
        cat_items = list(dict.fromkeys([*item_popularity.keys(), *(i for v in lists.values() for i in v)]))
    else:
        cat_items = list(dict.fromkeys(catalogue))
    if not cat_items:
        raise ValueError(EMPTY_CATALOGUE)
    index = {item: j for j, item in enumerate(cat_items)}
    pop_get = item_popularity.get
    pop = np.array([float(pop_get(i, 0.0)) for i in cat_items])
    n_head = math.ceil(head_share * len(cat_items))
    # rank 1 = most popular; tied items share the best rank, so boundary ties join the head
    rank = 1 + len(pop) - np.searchsorted(np.sort(pop), pop, side="right")
    head = rank <= n_head
    users = list(lists)
    n_users = len(users)
    longest = max((len(v) for v in lists.values()), default=0)
    disc = _discount(longest)
    mean_pop = np.zeros(n_users)
    slots = np.zeros(n_users)
    tail = np.zeros(n_users)
    rows, cols, vals = [], [], []
    for r, user in enumerate(users):
        items = lists[user]
        mean_pop[r] = np.mean([float(pop_get(i, 0.0)) for i in items])
        slots[r] = len(items)
        for pos, item in enumerate(items):
            j = index.get(item)
            if j is None:  # outside the catalogue: unknown popularity, counted as long tail
                tail[r] += 1.0
                continue
            tail[r] += 0.0 if head[j] else 1.0
            rows.append(r)
            cols.append(j)
            vals.append(disc[pos])
    X = sparse.csr_matrix((vals, (rows, cols)), shape=(n_users, len(cat_items)))
    exposure = np.asarray(X.sum(axis=0)).ravel()

    point = {
        "average_recommended_popularity": float(mean_pop.mean()) if n_users else math.nan,
        "long_tail_share": float(tail.sum() / slots.sum()) if slots.sum() > 0 else math.nan,
        "exposure_gini": float(gini(exposure)),
        "catalogue_coverage": float((exposure > 0).sum() / len(cat_items)),
    }
    reps: dict[str, list[np.ndarray]] = {key: [] for key in point}
    if n_boot > 0 and n_users > 0:
        rng = make_rng(seed)
        XT = X.T.tocsr()
        for w in resample_weight_chunks(n_users, n_boot, rng):
            wf = w.astype(float)
            reps["average_recommended_popularity"].append(wf @ mean_pop / n_users)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps["long_tail_share"].append((wf @ tail) / (wf @ slots))
            item_exp = np.asarray(XT @ wf.T).T  # (b, items)
            reps["exposure_gini"].append(np.asarray(gini(item_exp)))
            reps["catalogue_coverage"].append((item_exp > 0).sum(axis=1) / len(cat_items))
    bounds = {
        "average_recommended_popularity": (0.0, math.inf),
        "long_tail_share": (0.0, 1.0),
        "exposure_gini": (0.0, 1.0),
        "catalogue_coverage": (0.0, 1.0),
    }
    out = {}
    for key, value in point.items():
        lo = hi = math.nan
        if reps[key]:
            lo, hi = interval(
                value, np.concatenate(reps[key]), confidence=confidence, method=ci_method, bounds=bounds[key]
            )
        out[key] = Estimate(
            metric=key, value=value, ci_low=lo, ci_high=hi, confidence=confidence, n_boot=n_boot, n=n_users
        )
    return out


# ---------------------------------------------------------------------------
# Price differential
# ---------------------------------------------------------------------------


def _fe_effects(tn: np.ndarray, ts: np.ndarray, ref: int) -> np.ndarray:
    """Group effects of ``price ~ group dummies + category fixed effects``.

    Works on (…, G, C) tables of slot counts ``tn`` and price sums ``ts`` via
    the Frisch-Waugh-Lovell normal equations; effects are relative to group
    ``ref`` (its effect is 0). Batched over leading axes (pseudo-inverse).
    """
    n_c = tn.sum(axis=-2)  # (…, C)
    s_c = ts.sum(axis=-2)
    inv = np.where(n_c > 0, 1.0 / np.where(n_c > 0, n_c, 1.0), 0.0)
    a = -np.einsum("...gc,...c,...hc->...gh", tn, inv, tn)
    diag = tn.sum(axis=-1)
    G = tn.shape[-2]
    idx = np.arange(G)
    a[..., idx, idx] += diag
    b = ts.sum(axis=-1) - np.einsum("...gc,...c,...c->...g", tn, inv, s_c)
    keep = np.array([i for i in range(G) if i != ref], dtype=np.int64)
    a_red = a[..., keep[:, None], keep[None, :]]
    b_red = b[..., keep]
    beta_red = np.einsum("...gh,...h->...g", np.linalg.pinv(a_red), b_red)
    beta = np.zeros(tn.shape[:-1])
    beta[..., keep] = beta_red
    return beta


def price_differential(
    recommendations: Recommendations,
    *,
    user_groups: Mapping[Hashable, object] | pd.Series,
    item_price: Mapping[Hashable, float] | pd.Series,
    item_category: Mapping[Hashable, object] | pd.Series | None = None,
    k: int | None = None,
    higher_price: Literal["adverse", "favourable"] = "adverse",
    min_group_size: int = 30,
    n_boot: int = 1000,
    n_permutations: int = 999,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> dict[str, FairnessResult]:
    """Price of recommended items across user groups, raw and within category.

    Parameters
    ----------
    recommendations : mapping or DataFrame
        Ordered recommendations per user.
    user_groups : mapping or Series of user to group label
        Users missing from it form the ``"unknown"`` group.
    item_price : mapping or Series of item to float
        Price per item; recommended items without a price are skipped.
    item_category : mapping or Series of item to category, optional
        Category per item (missing -> ``"unknown"``); without it every item
        is in one category and the controlled gap equals the raw gap.
    k : int, optional
        Cut-off applied to every list.
    higher_price : {"adverse", "favourable"}
        Whether being shown pricier items is worse for the user (sets
        worst/best group).
    min_group_size : int
        Groups with fewer users are excluded from ``value``.
    n_boot, confidence, seed, ci_method
        Bootstrap over users, stratified by group.
    n_permutations : int
        Permutations of users' group labels behind the controlled gap's
        one-sided ``p_value`` (0 disables it).

    Returns
    -------
    dict
        ``"mean_price_ratio"``: lowest over highest group mean price (mean
        over recommended slots), Welch's t-test on per-user mean prices of the
        worst and best group. ``"within_category_price_gap"``: largest minus
        smallest group effect in an OLS of slot price on group dummies plus
        category fixed effects (a weighted mean of within-category
        differences), in price units; ``by_group`` column
        ``within_category_effect`` is relative to the largest group.
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)
    _check_k(k, required=False)
    if higher_price not in ("adverse", "favourable"):
        raise ValueError(BAD_HIGHER_PRICE.format(value=higher_price))
    lists = _lists(recommendations, k)
    price_get = item_price.get
    cat_get = item_category.get if item_category is not None else (lambda _i, _d=None: "all")
    users: list[Hashable] = []
    entries_u, entries_c, entries_p = [], [], []
    categories: dict[object, int] = {}
    skipped = 0
    for user, items in lists.items():
        priced = []
        for item in items:
            p = price_get(item, None)
            if p is None or not np.isfinite(float(p)):
                skipped += 1
                continue
            c = cat_get(item, None)
            c = UNKNOWN if c is None or (isinstance(c, float) and math.isnan(c)) else c
            priced.append((categories.setdefault(c, len(categories)), float(p)))
        if priced:
            row = len(users)
            users.append(user)
            for c_idx, p in priced:
                entries_u.append(row)
                entries_c.append(c_idx)
                entries_p.append(p)
    if not users:
        raise ValueError(NO_PRICED_SLOTS)
    n_users, C = len(users), len(categories)
    eu = np.asarray(entries_u, dtype=np.int64)
    ec = np.asarray(entries_c, dtype=np.int64)
    ep = np.asarray(entries_p, dtype=float)
    u_n = np.bincount(eu * C + ec, minlength=n_users * C).reshape(n_users, C).astype(float)
    u_s = np.bincount(eu * C + ec, weights=ep, minlength=n_users * C).reshape(n_users, C)
    g = _user_groups(users, user_groups)
    G = g.n_groups
    sizes = g.sizes
    eligible = sizes >= min_group_size
    tn = np.zeros((G, C))
    ts = np.zeros((G, C))
    np.add.at(tn, g.codes, u_n)
    np.add.at(ts, g.codes, u_s)
    slots_g = tn.sum(axis=1)
    mean_price = ts.sum(axis=1) / slots_g
    user_mean = u_s.sum(axis=1) / u_n.sum(axis=1)
    adverse = higher_price == "adverse"
    ref = int(np.argmax(slots_g))
    beta = _fe_effects(tn, ts, ref)

    notes = [f"within_category_effect is relative to {g.names[ref]}"]
    if skipped:
        notes.append(f"{skipped} recommended slot(s) without a price skipped")
    # a group whose categories are shared with no other group has no within-category contrast
    shared = (tn > 0).astype(int)
    overlap = (shared * ((shared.sum(axis=0, keepdims=True) - shared) > 0)).sum(axis=1) > 0
    beta = np.where(overlap | (G == 1), beta, np.nan)
    if not overlap.all() and G > 1:
        lonely = [g.names[i] for i in np.flatnonzero(~overlap)]
        notes.append(f"no category shared with another group (effect undefined): {', '.join(lonely)}")

    rng = make_rng(seed)
    rep_mean = rep_beta = None
    if n_boot > 0:
        sums = bootstrap_unit_sums(np.hstack([u_n, u_s]), g.codes, G, n_boot, rng)
        r_tn, r_ts = sums[..., :C], sums[..., C:]
        with np.errstate(divide="ignore", invalid="ignore"):
            rep_mean = r_ts.sum(axis=-1) / r_tn.sum(axis=-1)
        rep_beta = np.where(overlap | (G == 1), _fe_effects(r_tn, r_ts, ref), np.nan)

    def finish(
        name: str,
        kind: Literal["difference", "ratio"],
        values: np.ndarray,
        reps: np.ndarray | None,
        p_value: float,
        test_name: str,
        p_adj: float,
    ) -> FairnessResult:
        value = float(gap(np.where(eligible, values, np.nan), kind))
        value_all = float(gap(values, kind))
        ok = eligible & ~np.isnan(values)
        worst = best = None
        if ok.any():
            hi = int(np.argmax(np.where(ok, values, -np.inf)))
            lo = int(np.argmin(np.where(ok, values, np.inf)))
            worst, best = (g.names[hi], g.names[lo]) if adverse else (g.names[lo], g.names[hi])
        ci_low = ci_high = math.nan
        if reps is not None and math.isfinite(value):
            r = gap(np.where(eligible, reps, np.nan), kind)
            bounds = (0.0, 1.0) if kind == "ratio" else (0.0, math.inf)
            ci_low, ci_high = interval(value, r, confidence=confidence, method=ci_method, bounds=bounds)
        by_group = pd.DataFrame(
            {
                "group": list(g.names),
                "n": sizes,
                "n_slots": slots_g.astype(np.int64),
                "mean_price": mean_price,
                "within_category_effect": beta,
                "eligible": eligible,
            }
        )
        return group_result(
            metric=name,
            names=g.names,
            eligible=eligible,
            value=value,
            value_all=value_all,
            ci_low=ci_low,
            ci_high=ci_high,
            p_value=p_value,
            by_group=by_group,
            worst=worst,
            best=best,
            confidence=confidence,
            n_boot=n_boot,
            test=test_name,
            notes=[*notes, *too_few_groups(eligible)],
            p_value_adjusted=p_adj,
        )

    # raw ratio: Welch test of per-user mean prices, worst vs best group
    p_raw, t_raw = math.nan, "none"
    ok = eligible & ~np.isnan(mean_price)
    if ok.sum() >= 2:
        hi = int(np.argmax(np.where(ok, mean_price, -np.inf)))
        lo = int(np.argmin(np.where(ok, mean_price, np.inf)))
        a, b = user_mean[g.codes == hi], user_mean[g.codes == lo]
        if a.size >= 2 and b.size >= 2:
            res = _welch(a, b)
            p_raw, t_raw = (float(res.pvalue) if np.isfinite(res.pvalue) else 1.0), "welch_t"
    ratio_result = finish(
        "mean_price_ratio", "ratio", mean_price, rep_mean, p_raw, t_raw, bonferroni(p_raw, int(ok.sum()))
    )

    # controlled gap: permutation of users' group labels
    observed = float(gap(np.where(eligible, beta, np.nan), "difference"))
    p_fe, t_fe = math.nan, "none"
    if n_permutations > 0 and math.isfinite(observed) and int(eligible.sum()) >= 2:
        hits = 0
        for _ in range(n_permutations):
            perm = rng.permutation(g.codes)
            key = perm[eu] * C + ec
            p_tn = np.bincount(key, minlength=G * C).reshape(G, C).astype(float)
            p_ts = np.bincount(key, weights=ep, minlength=G * C).reshape(G, C)
            pb = _fe_effects(p_tn, p_ts, ref)
            if float(gap(np.where(eligible, pb, np.nan), "difference")) >= observed - 1e-12:
                hits += 1
        p_fe, t_fe = (hits + 1) / (n_permutations + 1), "permutation"
    gap_result = finish("within_category_price_gap", "difference", beta, rep_beta, p_fe, t_fe, p_fe)
    return {"mean_price_ratio": ratio_result, "within_category_price_gap": gap_result}


__all__ = [
    "exposure_parity",
    "gini",
    "item_exposure",
    "popularity_bias",
    "price_differential",
    "quality_gap",
    "quality_per_user",
]
