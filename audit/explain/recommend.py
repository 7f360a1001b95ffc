"""What drove a recommendation: the neighbours or similar items behind it.

A user-based recommender predicts from the ratings of the most similar users;
a content-based one from the user's own ratings of the most similar items.
Either way the evidence is a short list of ids with similarities and ratings,
which is what a person (or an auditor) needs to see why an item was shown.
Only ids are reported, never names: a neighbour is another customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["RecommendationExplanation", "explain_recommendation"]


@dataclass(frozen=True)
class RecommendationExplanation:
    """Evidence behind the prediction of ``item_id`` for ``user_id``.

    ``neighbours``: similar users who rated the item (user_id, similarity,
    rating); ``similar_items``: items the user rated that resemble it
    (item_id, similarity, rating). ``kind`` says which evidence exists:
    "user_neighbours", "similar_items", "both" or "none".
    """

    user_id: Any
    item_id: Any
    kind: str
    neighbours: list[dict[str, Any]] = field(default_factory=list)
    similar_items: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None
    rank: int | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": _plain(self.user_id),
            "item_id": _plain(self.item_id),
            "kind": self.kind,
            "neighbours": [{k: _plain(v) for k, v in n.items()} for n in self.neighbours],
            "similar_items": [{k: _plain(v) for k, v in n.items()} for n in self.similar_items],
            "score": self.score,
            "rank": self.rank,
            "notes": list(self.notes),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _content_part(estimator: Any) -> Any:
    """The item-similarity component of a recommender, if it has one."""
    for candidate in (estimator, getattr(estimator, "content_", None), getattr(estimator, "content", None)):
        if candidate is not None and hasattr(candidate, "item_sim_") and hasattr(candidate, "R_"):
            return candidate
    return None


def _similar_items(model: Any, user_id: Any, item_id: Any, top_n: int) -> list[dict[str, Any]]:
    """The user's rated items most similar to ``item_id`` (those a content model averages over)."""
    users = getattr(model, "user_index_", {})
    items = getattr(model, "item_index_", {})
    if user_id not in users or item_id not in items:
        return []
    row, col = users[user_id], items[item_id]
    ratings = model.R_
    lo, hi = ratings.indptr[row], ratings.indptr[row + 1]
    rated = np.asarray(ratings.indices[lo:hi])
    values = np.asarray(ratings.data[lo:hi], dtype=float)
    keep = rated != col
    rated, values = rated[keep], values[keep]
    if not len(rated):
        return []
    sims = np.asarray(model.item_sim_[col, rated], dtype=float).ravel()
    k = int(getattr(model, "k", len(rated)) or len(rated))
    order = np.argsort(-sims, kind="stable")[: min(k, top_n)]
    return [
        {"item_id": model.items_[rated[j]], "similarity": float(sims[j]), "rating": float(values[j])}
        for j in order
        if sims[j] > 0
    ]


def explain_recommendation(artifact: Any, user_id: Any, item_id: Any, *, top_n: int = 10) -> RecommendationExplanation:
    """The most similar users (user-based) or items (content-based) behind one recommendation.

    Neighbours come from ``artifact.explain_neighbours``; item evidence from
    the content component's item similarities. ``score`` and ``rank`` are
    filled when the pair is in ``artifact.recommendations``.
    """
    notes: list[str] = []
    neighbours = [
        {"user_id": uid, "similarity": float(sim), "rating": float(rating)}
        for uid, sim, rating in sorted(artifact.explain_neighbours(user_id, item_id), key=lambda t: -t[1])[:top_n]
    ]
    content = _content_part(artifact.estimator)
    similar = _similar_items(content, user_id, item_id, top_n) if content is not None else []
    kind = (
        "both"
        if neighbours and similar
        else "user_neighbours"
        if neighbours
        else "similar_items"
        if similar
        else "none"
    )
    if kind == "none":
        notes.append(
            "no neighbour or item evidence: the prediction falls back to the user's mean or the global mean "
            "(unknown user/item, or no similar rater)"
        )
    score = rank = None
    recs = getattr(artifact, "recommendations", None)
    if recs is not None and len(recs) and {"user_id", "item_id"} <= set(recs.columns):
        hit = recs[(recs["user_id"] == user_id) & (recs["item_id"] == item_id)]
        if len(hit):
            score = float(hit["score"].iloc[0]) if "score" in hit.columns else None
            rank = int(hit["rank"].iloc[0]) if "rank" in hit.columns else None
        else:
            notes.append("the pair is not in the stored top-k recommendations")
    return RecommendationExplanation(
        user_id=user_id,
        item_id=item_id,
        kind=kind,
        neighbours=neighbours,
        similar_items=similar,
        score=score,
        rank=rank,
        notes=tuple(notes),
    )
