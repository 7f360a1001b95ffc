"""Recommenders: user-based KNN with means (Pearson), content-based, hybrid.

The KNN model follows the KNN-with-means estimator: the prediction for user u
and item i is u's mean rating plus the similarity-weighted average of the
mean-centred ratings that u's k most similar raters of i gave, counting only
positive Pearson similarities computed on commonly rated items.

Memory: the Pearson statistics for all user pairs need several dense
n_users x n_users matrices; scikit-surprise keeps seven of them (measured
peak while fitting: 59 MiB at 1,000 users, 223 MiB at 2,000, 873 MiB at
4,000). Past ``dense_max_users`` (2,000) users the similarities are computed
in row blocks and only the top ``n_neighbours`` per user are kept, so memory
grows linearly (59 MiB at 2,000 users, 117 MiB at 4,000, mostly the block
buffers). At or below the limit scikit-surprise computes them when it is
installed (``backend="auto"``). Predictions then use the kept neighbour
lists; with ``n_neighbours=None`` every user is kept and predictions match
the reference estimator (up to the order of exactly tied similarities).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "ContentRecommender",
    "HybridRecommender",
    "KNNWithMeansRecommender",
    "evaluate_recommender",
    "item_popularity",
    "ranking_metrics",
    "split_ratings",
]

_DENSE_CELLS = 50_000_000  # users x items cells kept dense (400 MB of float64 at most)
_CACHE_CELLS = 20_000_000  # full score matrix cached after first use (160 MB at most)


def split_ratings(
    ratings: pd.DataFrame, test_size: float = 0.2, seed: int = 0, user_col: str = "user_id", min_ratings: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a share of each user's ratings (users with at least ``min_ratings``).

    Per-user hold-out keeps every test user known to the model, so ranking
    metrics measure ranking and not cold start.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ratings))
    shuffled = ratings.iloc[order]
    position = shuffled.groupby(user_col, sort=False).cumcount().to_numpy()
    counts = shuffled.groupby(user_col, sort=False)[user_col].transform("size").to_numpy()
    n_test = np.floor(counts * test_size).astype(int)
    is_test = (counts >= min_ratings) & (position < n_test)
    return shuffled.loc[~is_test].sort_index(), shuffled.loc[is_test].sort_index()


def item_popularity(ratings: pd.DataFrame, item_col: str = "item_id") -> pd.Series:
    """Number of ratings per item."""
    return ratings.groupby(item_col).size().rename("popularity")


class _RatingRecommender(BaseEstimator):
    """Index bookkeeping, prediction and top-k ranking shared by all recommenders."""

    rating_scale: tuple[float, float]

    def _index(self, ratings: pd.DataFrame, items: Iterable[Any] | None = None) -> None:
        for col in ("user_id", "item_id", "rating"):
            if col not in ratings.columns:
                raise KeyError(f"ratings need a {col!r} column")
        user_col = ratings["user_id"].to_numpy(dtype=object)
        item_col = ratings["item_id"].to_numpy(dtype=object)
        self.users_ = np.asarray(pd.unique(user_col), dtype=object)
        item_ids = list(pd.unique(item_col))
        if items is not None:
            seen = set(item_ids)
            item_ids += [i for i in items if i not in seen]
        self.items_ = np.asarray(item_ids, dtype=object)
        self.user_index_ = {u: j for j, u in enumerate(self.users_)}
        self.item_index_ = {i: j for j, i in enumerate(self.items_)}
        self._user_lookup = pd.Index(self.users_, dtype=object)
        self._item_lookup = pd.Index(self.items_, dtype=object)
        rows = self.user_positions(user_col)
        cols = self.item_positions(item_col)
        values = ratings["rating"].to_numpy(dtype=float)
        shape = (len(self.users_), len(self.items_))
        self.R_ = sparse.csr_matrix((values, (rows, cols)), shape=shape)
        self.R_.sum_duplicates()
        counts = np.diff(self.R_.indptr)
        sums = np.asarray(self.R_.sum(axis=1)).ravel()
        self.means_ = np.divide(sums, counts, out=np.zeros(len(counts)), where=counts > 0)
        self.global_mean_ = float(values.mean()) if len(values) else 0.0
        self.rated_ = sparse.csr_matrix((np.ones_like(self.R_.data), self.R_.indices, self.R_.indptr), shape=shape)
        self.dense_ = shape[0] * shape[1] <= _DENSE_CELLS
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def _cached_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores for user rows, computed once for all users when the matrix is small.

        Ranking, evaluation and the hybrid all score the same users, so a
        users x items cache turns repeated neighbour aggregation into lookups.
        """
        cache = getattr(self, "_cache", None)
        if cache is None and len(self.users_) * len(self.items_) <= _CACHE_CELLS:
            cache = self._score_rows(np.arange(len(self.users_)))
            self._cache = cache
        if cache is not None:
            return cache[0][rows], cache[1][rows]
        return self._score_rows(rows)

    def user_positions(self, users: npt.ArrayLike) -> np.ndarray:
        """Row index of each user in the fitted matrices, -1 when unknown."""
        return self._user_lookup.get_indexer(np.asarray(users, dtype=object))

    def item_positions(self, items: npt.ArrayLike) -> np.ndarray:
        """Column index of each item, -1 when unknown."""
        return self._item_lookup.get_indexer(np.asarray(items, dtype=object))

    def _rows(self, matrix: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
        return matrix[rows].toarray()

    def _score_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(estimates, supported) for known user rows over all items."""
        raise NotImplementedError

    def _clip(self, values: np.ndarray) -> np.ndarray:
        lo, hi = self.rating_scale
        return np.clip(values, lo, hi)

    def score_users(self, users: npt.ArrayLike) -> np.ndarray:
        """Predicted ratings, one row per user and one column per item in ``items_``."""
        check_is_fitted(self, "users_")
        positions = self.user_positions(users)
        out = np.full((len(positions), len(self.items_)), self.global_mean_)
        known = positions >= 0
        if known.any():
            scores, _ = self._cached_rows(positions[known])
            out[known] = self._clip(scores)
        return out

    def predict(self, users: npt.ArrayLike, items: npt.ArrayLike) -> np.ndarray:
        """Predicted rating per (user, item) pair; unknown user or item gets the global mean."""
        check_is_fitted(self, "users_")
        users_arr = np.asarray(users, dtype=object)
        items_arr = np.asarray(items, dtype=object)
        out = np.full(len(users_arr), self.global_mean_)
        rows = self.user_positions(users_arr)
        cols = self.item_positions(items_arr)
        ok = (rows >= 0) & (cols >= 0)
        if ok.any():
            unique_rows, inverse = np.unique(rows[ok], return_inverse=True)
            scores = self._clip(self._cached_rows(unique_rows)[0])
            out[ok] = scores[inverse, cols[ok]]
        return out

    def recommend(
        self,
        users: Sequence[Any] | None = None,
        k: int = 10,
        exclude_rated: bool = True,
        item_prices: Mapping[Any, float] | pd.Series | None = None,
        batch_size: int = 512,
    ) -> pd.DataFrame:
        """Top-k items per user: DataFrame(user_id, rank, item_id, score, price)."""
        check_is_fitted(self, "users_")
        chosen = list(self.users_) if users is None else list(users)
        prices = pd.Series(item_prices) if item_prices is not None else pd.Series(dtype=float)
        frames = []
        for start in range(0, len(chosen), batch_size):
            batch = chosen[start : start + batch_size]
            scores = self.score_users(batch)
            if exclude_rated:
                positions = self.user_positions(batch)
                known = np.flatnonzero(positions >= 0)
                if len(known):
                    rated = self._rows(self.rated_, positions[known]) > 0
                    block = scores[known]
                    block[rated] = -np.inf
                    scores[known] = block
            top = min(k, scores.shape[1])
            # stable tie-break on item order keeps output deterministic
            order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
            top_scores = np.take_along_axis(scores, order, axis=1)
            frame = pd.DataFrame(
                {
                    "user_id": np.repeat(np.asarray(batch, dtype=object), top),
                    "rank": np.tile(np.arange(1, top + 1), len(batch)),
                    "item_id": self.items_[order.ravel()],
                    "score": top_scores.ravel(),
                }
            )
            frames.append(frame[np.isfinite(frame["score"].to_numpy())])
        out = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["user_id", "rank", "item_id", "score"])
        )
        out["price"] = out["item_id"].map(prices).astype(float) if len(prices) else np.nan
        return out


class KNNWithMeansRecommender(_RatingRecommender):
    """User-based KNN with means and Pearson similarity.

    Parameters
    ----------
    k, min_k:
        Maximum and minimum number of positive-similarity neighbours used for
        one prediction (too few means the user's mean is returned).
    min_support:
        Minimum number of commonly rated items for a non-zero similarity.
    n_neighbours:
        Neighbours kept per user (None keeps all, exact but quadratic).
    backend:
        "surprise", "sparse" or "auto" (surprise when installed and the user
        count is at most ``dense_max_users``).
    blas_threads:
        BLAS threads for the blockwise similarity products (None: leave the
        caller's setting; more threads only help on otherwise idle cores).
    """

    def __init__(
        self,
        k: int = 40,
        min_k: int = 1,
        min_support: int = 1,
        n_neighbours: int | None = 200,
        backend: str = "auto",
        dense_max_users: int = 2000,
        rating_scale: tuple[float, float] = (1.0, 5.0),
        block_size: int = 256,
        blas_threads: int | None = None,
    ) -> None:
        self.blas_threads = blas_threads
        self.k = k
        self.min_k = min_k
        self.min_support = min_support
        self.n_neighbours = n_neighbours
        self.backend = backend
        self.dense_max_users = dense_max_users
        self.rating_scale = rating_scale
        self.block_size = block_size

    def fit(self, ratings: pd.DataFrame, items: Iterable[Any] | None = None) -> KNNWithMeansRecommender:
        self._index(ratings, items)
        n = len(self.users_)
        keep = n - 1 if self.n_neighbours is None else min(int(self.n_neighbours), max(n - 1, 0))
        self.n_kept_ = keep
        backend = self.backend
        if backend == "auto":
            backend = "surprise" if n <= self.dense_max_users and _surprise_available() else "sparse"
        self.backend_ = backend
        if backend == "surprise":
            self._fit_surprise(ratings, keep)
        elif backend == "sparse":
            if self.blas_threads is None:
                self._fit_sparse(keep)
            else:
                from threadpoolctl import threadpool_limits

                with threadpool_limits(limits=self.blas_threads, user_api="blas"):
                    self._fit_sparse(keep)
        else:
            raise ValueError(f"unknown backend {self.backend!r}")
        dev = self.R_.copy()
        dev.data = dev.data - np.repeat(self.means_, np.diff(dev.indptr))
        self.dev_ = dev
        if self.dense_:
            self._dev_dense = dev.toarray()
            self._rated_dense = self.rated_.toarray() > 0
        return self

    # -------------------------------------------------------------- similarity
    def _store_top(self, start: int, sims: np.ndarray, keep: int) -> None:
        """Keep the ``keep`` most similar users per row, best first.

        Only positive similarities can contribute to a prediction, so the
        others are dropped (index -1) and never gathered at scoring time.
        """
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf  # never your own neighbour
        if keep <= 0:
            return
        if keep < sims.shape[1]:
            part = np.argpartition(-sims, keep - 1, axis=1)[:, :keep]
        else:
            part = np.tile(np.arange(sims.shape[1]), (sims.shape[0], 1))
        vals = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        positive = vals > 0
        self.nbr_idx_[start : start + len(rows), : idx.shape[1]] = np.where(positive, idx, -1)
        self.nbr_sim_[start : start + len(rows), : idx.shape[1]] = np.where(positive, vals, 0.0)

    def _alloc(self, keep: int) -> None:
        n = len(self.users_)
        self.nbr_idx_ = np.full((n, keep), -1, dtype=np.int32)
        self.nbr_sim_ = np.zeros((n, keep), dtype=np.float64)

    def _fit_sparse(self, keep: int) -> None:
        """Blockwise Pearson over co-rated items; keeps only top neighbours.

        With integer ratings the block products are exact in float32 (all
        partial sums are integers below 2**24), which halves the work;
        otherwise ratings are centred per user and multiplied in float64.
        """
        self._alloc(keep)
        B = self.rated_
        values = self.R_.data
        per_user = int(np.diff(self.R_.indptr).max()) if self.R_.nnz else 0
        top = float(np.abs(values).max()) if len(values) else 0.0
        exact32 = bool(np.all(values == np.round(values))) and per_user * per_user * top * top < 2**24
        if exact32:
            D = self.R_.astype(np.float32)
            B = B.astype(np.float32)
        else:
            # Pearson is invariant to a per-user shift: centring first avoids cancellation.
            D = self.R_.copy()
            D.data = D.data - np.repeat(self.means_, np.diff(D.indptr))
        D2 = D.multiply(D).tocsr()
        if self.dense_:
            D, B, D2 = D.toarray(), B.toarray(), D2.toarray()
        DT, BT, D2T = D.T, B.T, D2.T
        n = len(self.users_)
        for start in range(0, n, self.block_size):
            stop = min(start + self.block_size, n)
            Db, Bb, D2b = D[start:stop], B[start:stop], D2[start:stop]
            freq = _dense(Bb @ BT)
            prods = _dense(Db @ DT)
            si = _dense(Db @ BT)
            sj = _dense(Bb @ DT)
            sqi = _dense(D2b @ BT)
            sqj = _dense(Bb @ D2T)
            num = freq * prods
            num -= si * sj
            var_i = freq * sqi
            var_i -= si * si
            var_j = freq * sqj
            var_j -= sj * sj
            if exact32:
                # integer statistics: a user whose common ratings are all equal has variance exactly 0
                valid = (var_i > 0) & (var_j > 0)
            else:
                valid = (var_i > 1e-9 * (freq * sqi + 1.0)) & (var_j > 1e-9 * (freq * sqj + 1.0))
            if self.min_support > 1:
                valid &= freq >= self.min_support
            var_i *= var_j
            np.sqrt(var_i, out=var_i)
            sims = np.divide(num, var_i, out=np.zeros_like(num), where=valid)
            self._store_top(start, sims, keep)

    def _fit_surprise(self, ratings: pd.DataFrame, keep: int) -> None:
        from surprise import Dataset, KNNWithMeans, Reader

        frame = ratings[["user_id", "item_id", "rating"]].copy()
        reader = Reader(rating_scale=tuple(self.rating_scale))
        trainset = Dataset.load_from_df(frame, reader).build_full_trainset()
        algo = KNNWithMeans(
            k=self.k,
            min_k=self.min_k,
            sim_options={"name": "pearson", "user_based": True, "min_support": self.min_support},
            verbose=False,
        )
        algo.fit(trainset)
        inner = np.array([trainset.to_inner_uid(u) for u in self.users_])
        sims = np.asarray(algo.sim)[np.ix_(inner, inner)]
        self.means_ = np.asarray(algo.means)[inner]
        del algo
        self._alloc(keep)
        for start in range(0, len(self.users_), self.block_size):
            self._store_top(start, sims[start : start + self.block_size].copy(), keep)

    # -------------------------------------------------------------- prediction
    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.dense_:
            return self._dev_dense[rows], self._rated_dense[rows]
        return self.dev_[rows].toarray(), self.rated_[rows].toarray() > 0

    def _score_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_items = len(self.items_)
        est = np.tile(self.means_[rows][:, None], (1, n_items))
        supported = np.zeros((len(rows), n_items), dtype=bool)
        width = int((self.nbr_idx_ >= 0).sum(axis=1).max()) if self.nbr_idx_.size else 0
        if width == 0:
            return est, supported
        step = max(1, 2_000_000 // (width * n_items))
        for start in range(0, len(rows), step):
            block = rows[start : start + step]
            idx = self.nbr_idx_[block, :width]
            valid = idx >= 0
            sim = np.where(valid, self.nbr_sim_[block, :width], 0.0)
            dev, rated = self._gather(np.where(valid, idx, 0).ravel())
            dev = dev.reshape(len(block), width, n_items)
            use = rated.reshape(len(block), width, n_items) & valid[:, :, None]
            if self.k < width:
                # neighbours are sorted by similarity, so the running count of raters
                # of an item is each neighbour's rank among that item's raters
                use &= np.cumsum(use, axis=1, dtype=np.int16) <= self.k
            sum_sim = np.einsum("bn,bni->bi", sim, use)
            sum_dev = np.einsum("bn,bni->bi", sim, np.where(use, dev, 0.0))
            ok = sum_sim > 0
            if self.min_k > 1:
                ok &= use.sum(axis=1) >= self.min_k
            est[start : start + len(block)] += np.divide(sum_dev, sum_sim, out=np.zeros_like(sum_dev), where=ok)
            supported[start : start + len(block)] = ok
        return est, supported

    def explain(self, user_id: Any, item_id: Any) -> list[tuple[Any, float, float]]:
        """The neighbours (user id, similarity, rating) that produced a prediction."""
        check_is_fitted(self, "nbr_idx_")
        if user_id not in self.user_index_ or item_id not in self.item_index_:
            return []
        row, col = self.user_index_[user_id], self.item_index_[item_id]
        out: list[tuple[Any, float, float]] = []
        for v, s in zip(self.nbr_idx_[row], self.nbr_sim_[row]):
            if v < 0 or s <= 0:
                continue
            rating = self.R_[v, col]
            if rating != 0 or self.rated_[v, col] > 0:
                out.append((self.users_[v], float(s), float(rating)))
                if len(out) >= self.k:
                    break
        return out


def _dense(matrix: Any) -> np.ndarray:
    """Block product as a float64 array (float32 products are widened before combining)."""
    out = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
    return out.astype(np.float64, copy=False)


def _surprise_available() -> bool:
    try:
        import surprise  # noqa: F401
    except ImportError:
        return False
    return True


class ContentRecommender(_RatingRecommender):
    """Item-item KNN on cosine similarity of item features.

    Items are described by one-hot categorical columns and standardised
    log-numeric columns (e.g. price). A user's predicted rating for item i is
    their mean plus the similarity-weighted average of their mean-centred
    ratings on the ``k`` most similar items they rated. Works for users whose
    tastes no other user shares, which is where user-KNN has no support.
    """

    def __init__(
        self,
        k: int = 20,
        min_k: int = 1,
        categorical: Sequence[str] = ("category", "provider"),
        numeric: Sequence[str] = ("price",),
        numeric_weight: float = 1.0,
        rating_scale: tuple[float, float] = (1.0, 5.0),
    ) -> None:
        self.k = k
        self.min_k = min_k
        self.categorical = categorical
        self.numeric = numeric
        self.numeric_weight = numeric_weight
        self.rating_scale = rating_scale

    def fit(self, ratings: pd.DataFrame, item_features: pd.DataFrame) -> ContentRecommender:
        self._index(ratings, item_features["item_id"].tolist())
        feats = item_features.drop_duplicates("item_id").set_index("item_id").reindex(self.items_)
        blocks = []
        for col in self.categorical:
            if col in feats.columns:
                blocks.append(pd.get_dummies(feats[col].astype(str), dtype=float).to_numpy())
        for col in self.numeric:
            if col in feats.columns:
                values = pd.Series(np.log1p(pd.to_numeric(feats[col], errors="coerce").to_numpy(dtype=float)))
                values = values.fillna(values.median())
                std = values.std(ddof=0)
                scaled = (values - values.mean()) / std if std > 0 else values * 0
                blocks.append(self.numeric_weight * scaled.to_numpy()[:, None])
        F = np.hstack(blocks) if blocks else np.zeros((len(self.items_), 1))
        norms = np.linalg.norm(F, axis=1, keepdims=True)
        F = np.divide(F, norms, out=np.zeros_like(F), where=norms > 0)
        self.item_vectors_ = F
        self.item_sim_ = F @ F.T
        np.fill_diagonal(self.item_sim_, 0.0)
        dev = self.R_.copy()
        dev.data = dev.data - np.repeat(self.means_, np.diff(dev.indptr))
        self.dev_ = dev
        return self

    def _score_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_items = len(self.items_)
        est = np.tile(self.means_[rows][:, None], (1, n_items))
        supported = np.zeros((len(rows), n_items), dtype=bool)
        for j, row in enumerate(rows):
            lo, hi = self.dev_.indptr[row], self.dev_.indptr[row + 1]
            rated = self.dev_.indices[lo:hi]
            if len(rated) == 0:
                continue
            devs = self.dev_.data[lo:hi]
            sims = self.item_sim_[:, rated]
            if len(rated) > self.k:
                cut = -np.partition(-sims, self.k - 1, axis=1)[:, self.k - 1 : self.k]
                sims = np.where(sims >= cut, sims, 0.0)
            sims = np.clip(sims, 0.0, None)
            total = sims.sum(axis=1)
            count = (sims > 0).sum(axis=1)
            ok = (total > 0) & (count >= self.min_k)
            est[j] += np.divide(sims @ devs, total, out=np.zeros(n_items), where=ok)
            supported[j] = ok
        return est, supported


class HybridRecommender(_RatingRecommender):
    """Weighted blend of user-KNN and content predictions.

    Where only one component has support (e.g. no similar user rated the
    item) its prediction is used alone, so the hybrid degrades gracefully
    for sparse users and new items.
    """

    def __init__(
        self,
        knn: KNNWithMeansRecommender | None = None,
        content: ContentRecommender | None = None,
        weight: float = 0.5,
        rating_scale: tuple[float, float] = (1.0, 5.0),
    ) -> None:
        self.knn = knn
        self.content = content
        self.weight = weight
        self.rating_scale = rating_scale

    def fit(self, ratings: pd.DataFrame, item_features: pd.DataFrame, prefitted: bool = False) -> HybridRecommender:
        """Fit both parts (or reuse them when ``prefitted``, e.g. already trained for comparison)."""
        self.knn_ = self.knn if self.knn is not None else KNNWithMeansRecommender(rating_scale=self.rating_scale)
        self.content_ = self.content if self.content is not None else ContentRecommender(rating_scale=self.rating_scale)
        if not prefitted:
            self.content_.fit(ratings, item_features)
            self.knn_.fit(ratings, items=self.content_.items_)
        self._index(ratings, list(self.content_.items_))
        return self

    def _score_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        users = self.users_[rows]
        k_rows = self.knn_.user_positions(users)
        c_rows = self.content_.user_positions(users)
        k_est, k_ok = self.knn_._cached_rows(k_rows)
        c_est, c_ok = self.content_._cached_rows(c_rows)
        k_est = _align(k_est, self.knn_.items_, self.items_, self.knn_.means_[k_rows])
        k_ok = _align(k_ok.astype(float), self.knn_.items_, self.items_, np.zeros(len(rows))) > 0
        c_est = _align(c_est, self.content_.items_, self.items_, self.content_.means_[c_rows])
        c_ok = _align(c_ok.astype(float), self.content_.items_, self.items_, np.zeros(len(rows))) > 0
        w = float(self.weight)
        blended = np.where(k_ok & c_ok, w * k_est + (1 - w) * c_est, np.where(k_ok, k_est, c_est))
        return blended, k_ok | c_ok

    def explain(self, user_id: Any, item_id: Any) -> list[tuple[Any, float, float]]:
        """Neighbour evidence of the user-KNN part."""
        return self.knn_.explain(user_id, item_id)


def _align(values: np.ndarray, source: np.ndarray, target: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Reorder item columns from one model's item order to another's."""
    if len(source) == len(target) and np.array_equal(source, target):
        return values
    position = {item: j for j, item in enumerate(source)}
    out = np.tile(np.asarray(fill, dtype=float)[:, None], (1, len(target)))
    cols = np.array([position.get(item, -1) for item in target])
    have = cols >= 0
    out[:, have] = values[:, cols[have]]
    return out


def ranking_metrics(recommendations: pd.DataFrame, relevant: pd.DataFrame, k: int) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k (binary gains).

    ``relevant`` holds (user_id, item_id) pairs; users with at least one
    relevant item are averaged, including those who got no recommendation.
    """
    pairs = relevant[["user_id", "item_id"]].drop_duplicates()
    n_rel = pairs.groupby("user_id").size()
    if n_rel.empty:
        return {f"precision@{k}": float("nan"), f"recall@{k}": float("nan"), f"ndcg@{k}": float("nan")}
    recs = recommendations.loc[recommendations["rank"] <= k, ["user_id", "item_id", "rank"]]
    hits = recs.merge(pairs.assign(_hit=1.0), on=["user_id", "item_id"], how="inner")
    hits["_gain"] = 1.0 / np.log2(hits["rank"].to_numpy(dtype=float) + 1.0)
    per_user = (
        hits.groupby("user_id").agg(n_hits=("_hit", "sum"), dcg=("_gain", "sum")).reindex(n_rel.index, fill_value=0.0)
    )
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    idcg = ideal[np.minimum(n_rel.to_numpy(), k)]
    return {
        f"precision@{k}": float((per_user["n_hits"] / k).mean()),
        f"recall@{k}": float((per_user["n_hits"].to_numpy() / n_rel.to_numpy()).mean()),
        f"ndcg@{k}": float((per_user["dcg"].to_numpy() / idcg).mean()),
    }


def evaluate_recommender(
    model: _RatingRecommender,
    test: pd.DataFrame,
    k: int = 10,
    relevance_threshold: float = 4.0,
    recommendations: pd.DataFrame | None = None,
    n_catalogue: int | None = None,
) -> dict[str, float]:
    """RMSE on held-out ratings plus precision/recall/NDCG@k and catalogue coverage.

    A held-out item is relevant when rated at least ``relevance_threshold``.
    Coverage is the share of the catalogue recommended to at least one user.
    """
    pred = model.predict(test["user_id"].to_numpy(), test["item_id"].to_numpy())
    rmse = float(np.sqrt(np.mean((pred - test["rating"].to_numpy(dtype=float)) ** 2))) if len(test) else float("nan")
    users = list(pd.unique(test["user_id"]))
    recs = recommendations if recommendations is not None else model.recommend(users, k=k)
    liked = test[test["rating"] >= relevance_threshold]
    metrics = {"rmse": rmse, **ranking_metrics(recs[recs["user_id"].isin(users)], liked, k)}
    catalogue = n_catalogue if n_catalogue is not None else len(model.items_)
    metrics["coverage"] = float(recs["item_id"].nunique() / catalogue) if catalogue else float("nan")
    return metrics
