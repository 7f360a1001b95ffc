"""Models from audit.yaml: one builder per (kind, source) pair of the model-kind table.

A builder turns a model entry and its datasets into the artifact the checks
read. Trained models reuse the CRM stack (:mod:`audit.crm`); loaded models are
the declared file itself, scored on the declared data; imported outputs
(predictions, recommendations, segment assignments) are validated and joined
to their dataset by id. Every problem with the user's input is an exit-2 error
naming the file, the key and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.config.models import AuditConfig, ModelConfig
from audit.config.predictions import validate_predictions
from audit.config.reading import DEFAULT_NA_VALUES, ReadError, apply_na_values, is_text, read_csv_file, strip_whitespace
from audit.core.context import AuditContext, Dataset
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.kinds import KINDS

# rows shown when a file has bad rows
_SHOW = 5


@dataclass
class ModelBuild:
    """Everything a builder may read."""

    mc: ModelConfig
    ds: Dataset
    cfg: AuditConfig
    datasets: dict[str, Dataset]
    base: Path
    config_file: str
    loc: str
    trust_pickle: bool
    ctx: AuditContext

    def err(self, key: str, message: str, hint: str = "") -> AuditInputError:
        return AuditInputError(ErrorItem(file=self.config_file, path=f"{self.loc}.{key}" if key else self.loc, message=message, hint=hint))

    @property
    def algorithm(self) -> str | None:
        spec = KINDS[self.mc.kind].sources[self.mc.source]
        return self.mc.algorithm or spec.default_algorithm

    def file(self, what: str) -> Path:
        path = (self.base / str(self.mc.path)).resolve()
        if not path.exists():
            raise self.err("path", f"{what} not found: {path}", "paths are relative to the config file")
        return path

    def dataset(self, name: str) -> Dataset:
        return self.datasets[name]


# --------------------------------------------------------------------------- shared helpers


def read_output_file(b: ModelBuild, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[pd.DataFrame, Path]:
    """A CSV of model outputs: required columns present, no empty file."""
    path = b.file(what)
    try:
        frame, _record = read_csv_file(path, {})
    except ReadError as exc:
        raise AuditInputError(ErrorItem(file=str(path), message=f"cannot read {what}: {exc}", hint=exc.hint)) from None
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=str(path), message=f"cannot read {what} as CSV: {type(exc).__name__}: {exc}")) from None
    strip_whitespace(frame)
    apply_na_values(frame, DEFAULT_NA_VALUES)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        cols = ", ".join(required) + (f" and optionally {', '.join(optional)}" if optional else "")
        raise AuditInputError(ErrorItem(file=str(path), message=f"{what} lacks column(s) {', '.join(missing)} (found: {', '.join(map(str, frame.columns[:20]))})", hint=f"columns: {cols}"))
    if frame.empty:
        raise AuditInputError(ErrorItem(file=str(path), message=f"{what} has no rows"))
    return frame, path


def _rows_text(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> str:
    idx = np.flatnonzero(np.asarray(mask))[:_SHOW]
    # +2: a header line, and rows count from 1
    return ", ".join(str(int(i) + 2) for i in idx)


def reject_rows(path: Path, frame: pd.DataFrame, mask: pd.Series | np.ndarray, message: str, hint: str = "") -> None:
    n = int(np.asarray(mask).sum())
    if n:
        raise AuditInputError(ErrorItem(file=str(path), message=f"{n} row(s) {message} (first at line {_rows_text(frame, mask)})", hint=hint))


def join_by_id(b: ModelBuild, path: Path, ids: pd.Series, ds: Dataset | None = None) -> pd.DataFrame:
    """Dataset rows in the order of ``ids`` (every id must exist, exactly once in the dataset)."""
    ds = ds or b.ds
    if not ds.roles.id:
        raise AuditInputError(ErrorItem(file=b.config_file, path=f"datasets.{ds.name}.roles.id", message=f"{path.name} is joined to dataset {ds.name!r} by id: declare roles.id"))
    key = ds.frame[ds.roles.id].astype(str)
    dup = key.duplicated(keep=False)
    if dup.any():
        raise AuditInputError(ErrorItem(file=b.config_file, path=f"datasets.{ds.name}.roles.id", message=f"id column {ds.roles.id!r} of dataset {ds.name!r} has {int(key[dup].nunique())} repeated value(s), e.g. {key[dup].iloc[0]!r}", hint="an id must identify one row"))
    frame = ds.frame.set_index(key)
    wanted = ids.astype(str)
    unknown = ~wanted.isin(frame.index)
    reject_rows(path, pd.DataFrame({"id": wanted}), unknown.to_numpy(), f"have an id not found in dataset {ds.name!r}", f"ids are values of {ds.name}.{ds.roles.id}")
    return frame.loc[wanted.to_numpy()]


def protected_of(b: ModelBuild, rows: pd.DataFrame, ds: Dataset | None = None) -> pd.DataFrame:
    ds = ds or b.ds
    return rows[[c for c in ds.roles.protected if c in rows.columns]].reset_index(drop=True)


def eval_split(b: ModelBuild, frame: pd.DataFrame, stratify: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    strat = stratify if stratify is not None and stratify.value_counts().min() >= 2 else None
    return train_test_split(frame, test_size=b.mc.test_size, random_state=b.cfg.seed, stratify=strat)


def _estimator_params(b: ModelBuild, factory: Callable[..., Any], **fixed: Any) -> Any:
    try:
        return factory(**{**fixed, **b.mc.params})
    except TypeError as exc:
        raise b.err("params", f"invalid params for algorithm {b.algorithm!r}: {exc}", "remove the parameter or check its name") from None


def _load(b: ModelBuild) -> Any:
    from audit.config.project import _load_estimator

    return _load_estimator(b.mc, base=b.base, config_file=b.config_file, loc=b.loc, trust_pickle=b.trust_pickle, ctx=b.ctx)


def _loaded_note(b: ModelBuild, rows: str) -> str:
    return f"loaded from {b.mc.source} file {Path(str(b.mc.path)).name} (the audited model is this file, not a retrained copy); evaluated on {rows}"


# --------------------------------------------------------------------------- regressor


def _numeric_target(b: ModelBuild, values: pd.Series, target: str, where: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        raise b.err(where, f"target {target!r} of a regressor must be numeric; {int(bad.sum())} value(s) are not, e.g. {values[bad].iloc[0]!r}")
    return numbers.to_numpy(dtype=float)


def _tabular_frame(b: ModelBuild, target: str | None) -> tuple[pd.DataFrame, list[str]]:
    from audit.config.project import _check_columns, _drop_empty_features, _features
    from audit.crm.preprocess import coerce_numeric_text

    feats = _features(b.mc, b.ds, target)
    _check_columns([*feats, *([target] if target else [])], b.ds, b.config_file, b.loc)
    feats = _drop_empty_features(feats, b.mc, b.ds, b.config_file, b.loc, b.ctx)
    frame = b.ds.frame.copy()
    frame = frame[frame[target].notna()] if target else frame
    for c in feats:
        if is_text(frame[c]):
            coerced = coerce_numeric_text(frame[c])
            if coerced.notna().sum() >= 0.9 * frame[c].astype("string").str.strip().replace("", pd.NA).notna().sum() and coerced.notna().any():
                frame[c] = coerced
    return frame, feats


def build_regressor_train(b: ModelBuild) -> Any:
    from audit.crm.classify import train_regressor

    target = str(b.mc.target or b.ds.roles.target)
    frame, feats = _tabular_frame(b, target)
    frame = frame.assign(**{target: _numeric_target(b, frame[target], target, "target")})
    return train_regressor(
        frame, target, feats, str(b.algorithm), name=b.mc.name, purpose=b.mc.purpose, dataset=b.mc.dataset, id_column=b.ds.roles.id,
        sensitive_columns=[c for c in b.ds.roles.protected if c in frame.columns], test_size=b.mc.test_size, random_state=b.cfg.seed, **b.mc.params,
    )


def build_regressor_loaded(b: ModelBuild) -> Any:
    from audit.crm.artifacts import RegressorArtifact
    from audit.crm.classify import evaluate_regressor

    target = b.mc.target or b.ds.roles.target
    if not target:
        raise b.err("target", "a loaded regressor is evaluated against the dataset's target: declare 'target' here or in the dataset roles")
    est = _load(b)
    frame, feats = _tabular_frame(b, target)
    frame = frame.assign(**{target: _numeric_target(b, frame[target], target, "target")})
    _, test = eval_split(b, frame)
    X_eval = test[feats].reset_index(drop=True)
    if not callable(getattr(est, "predict", None)):
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded object ({type(est).__name__}) has no predict method", hint="save the fitted regressor (or its pipeline) itself"))
    try:
        pred = np.asarray(est.predict(X_eval), dtype=float).ravel()
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded model cannot predict from the declared features: {type(exc).__name__}: {exc}", hint="features in audit.yaml must match the model's training columns")) from None
    truth = test[target].to_numpy(dtype=float)
    steps = getattr(est, "named_steps", {}) or {}
    return RegressorArtifact(
        name=b.mc.name, algorithm=type(est).__name__, purpose=b.mc.purpose, dataset=b.mc.dataset, features=feats, estimator=est,
        ids=test[b.ds.roles.id].to_numpy() if b.ds.roles.id else test.index.to_numpy(), sensitive=protected_of(b, test),
        metrics=evaluate_regressor(truth, pred), training_rows=0, notes=[_loaded_note(b, f"a {b.mc.test_size:.0%} sample of {b.ds.name}")],
        X_eval=X_eval, y_true=truth, y_pred=pred, X_train_sample=frame[feats].sample(min(200, len(frame)), random_state=b.cfg.seed).reset_index(drop=True),
        preprocessor=steps.get("prep"), source=b.mc.source,
    )


def build_regressor_predictions(b: ModelBuild) -> Any:
    from audit.crm.artifacts import RegressorArtifact
    from audit.crm.classify import evaluate_regressor

    pred, path = read_output_file(b, "predictions file", ("id", "y_true", "y_pred"))
    validate_predictions(pred, file=str(path))
    for col in ("y_true", "y_pred"):
        values = pd.to_numeric(pred[col], errors="coerce")
        reject_rows(path, pred, values.isna().to_numpy(), f"have a missing or non-numeric {col}", "a regressor's predictions file holds numbers")
        pred[col] = values
    rows = join_by_id(b, path, pred["id"])
    feats = [c for c in b.mc.features if c in rows.columns]
    b.ctx.limitations.append(f"model {b.mc.name} was audited from a predictions file: explanations are not available for it")
    return RegressorArtifact(
        name=b.mc.name, algorithm=b.mc.algorithm or "external (predictions only)", purpose=b.mc.purpose, dataset=b.mc.dataset, features=list(b.mc.features),
        estimator=None, ids=pred["id"].astype(str).to_numpy(), sensitive=protected_of(b, rows),
        metrics=evaluate_regressor(pred["y_true"], pred["y_pred"]),
        notes=["audited from a predictions file: the model itself was not shared"],
        X_eval=rows[feats].reset_index(drop=True), y_true=pred["y_true"].to_numpy(dtype=float), y_pred=pred["y_pred"].to_numpy(dtype=float), source=b.mc.source,
    )


# --------------------------------------------------------------------------- recommender


def _ratings(b: ModelBuild) -> tuple[pd.DataFrame, list[str]]:
    """The ratings dataset as user_id, item_id, rating; notes on rows dropped or merged."""
    r = b.ds.roles
    notes: list[str] = []
    src = b.ds.frame
    out = pd.DataFrame({"user_id": src[r.user].to_numpy(dtype=object), "item_id": src[r.item].to_numpy(dtype=object)})
    raw = src[r.rating]
    rating = pd.to_numeric(raw, errors="coerce")
    bad = rating.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
    if bad.any():
        raise AuditInputError(
            ErrorItem(file=b.config_file, path=f"datasets.{b.ds.name}.roles.rating", message=f"rating column {r.rating!r} must be numeric; {int(bad.sum())} value(s) are not, e.g. {raw[bad].iloc[0]!r}", hint="point roles.rating at the numeric rating column")
        )
    out["rating"] = rating.to_numpy(dtype=float)
    if r.timestamps:
        out["_ts"] = src[r.timestamps[0]].to_numpy()
    missing = out[["user_id", "item_id", "rating"]].isna().any(axis=1)
    if missing.any():
        notes.append(f"{int(missing.sum())} rating row(s) with a missing user, item or rating were left out")
        out = out[~missing]
    if out.empty:
        raise b.err("dataset", f"dataset {b.ds.name!r} has no complete (user, item, rating) row")
    dup = out.duplicated(["user_id", "item_id"], keep=False)
    if dup.any():
        n_pairs = int(out[dup].drop_duplicates(["user_id", "item_id"]).shape[0])
        if "_ts" in out.columns:
            out = out.sort_values("_ts", kind="stable").drop_duplicates(["user_id", "item_id"], keep="last")
            notes.append(f"{n_pairs} (user, item) pair(s) were rated more than once: the latest rating (by {r.timestamps[0]}) is used")
        else:
            out = out.groupby(["user_id", "item_id"], as_index=False, sort=False)["rating"].mean()
            notes.append(f"{n_pairs} (user, item) pair(s) were rated more than once and no timestamp is declared: their mean rating is used")
    return out[["user_id", "item_id", "rating"]].reset_index(drop=True), notes


def _item_table(b: ModelBuild, rated_items: pd.Series) -> pd.DataFrame:
    """item_id, category, price for the catalogue (the items dataset, else the rated items)."""
    if b.mc.items:
        ids = b.dataset(b.mc.items)
        r = ids.roles
        table = pd.DataFrame({"item_id": ids.frame[str(r.id)].to_numpy(dtype=object)})
        if r.category:
            table["category"] = ids.frame[r.category].astype("string").str.strip().to_numpy(dtype=object)
        if r.price:
            raw = ids.frame[r.price]
            price = pd.to_numeric(raw, errors="coerce")
            bad = price.isna() & raw.notna()
            if bad.any():
                raise AuditInputError(ErrorItem(file=b.config_file, path=f"datasets.{ids.name}.roles.price", message=f"price column {r.price!r} must be numeric; {int(bad.sum())} value(s) are not, e.g. {raw[bad].iloc[0]!r}"))
            table["price"] = price.to_numpy(dtype=float)
        dup = table["item_id"].duplicated(keep=False)
        if dup.any():
            raise AuditInputError(ErrorItem(file=b.config_file, path=f"datasets.{ids.name}.roles.id", message=f"item id {table.loc[dup, 'item_id'].iloc[0]!r} appears more than once in dataset {ids.name!r}", hint="one row per item"))
        extra = pd.unique(rated_items[~rated_items.isin(set(table["item_id"]))])
        if len(extra):
            table = pd.concat([table, pd.DataFrame({"item_id": extra})], ignore_index=True)
        return table
    return pd.DataFrame({"item_id": pd.unique(rated_items)})


def _user_attributes(b: ModelBuild, users: list[Any]) -> pd.DataFrame:
    """Protected attributes per user id (users dataset, else per-user values in the ratings)."""
    if b.mc.users:
        uds = b.dataset(b.mc.users)
        table = uds.frame.drop_duplicates(str(uds.roles.id)).set_index(str(uds.roles.id))[list(uds.roles.protected)]
    elif b.ds.roles.protected:
        table = b.ds.frame.drop_duplicates(str(b.ds.roles.user)).set_index(str(b.ds.roles.user))[list(b.ds.roles.protected)]
    else:
        return pd.DataFrame(index=pd.Index(users, dtype=object, name="user_id"))
    table.index = table.index.astype(object)
    out = table.reindex(pd.Index(users, dtype=object))
    out.index.name = "user_id"
    return out


def _opted_out(b: ModelBuild) -> set[Any]:
    if not b.mc.consent_column or not b.mc.users:
        return set()
    uds = b.dataset(b.mc.users)
    col = b.mc.consent_column
    if col not in uds.frame.columns:
        raise b.err("consent_column", f"column {col!r} is not in dataset {uds.name!r}", "available columns: " + ", ".join(map(str, uds.frame.columns[:40])))
    values = uds.frame[col]
    text = values.astype("string").str.strip().str.lower()
    no = text.isin(["false", "0", "no", "n", "f"])
    return set(uds.frame.loc[no.fillna(False).to_numpy(), str(uds.roles.id)])


def build_recommender_train(b: ModelBuild) -> Any:
    from threadpoolctl import threadpool_limits

    from audit.crm.artifacts import RecommenderArtifact
    from audit.crm.recommend import ContentRecommender, HybridRecommender, KNNWithMeansRecommender, evaluate_recommender, item_popularity, split_ratings

    ratings, notes = _ratings(b)
    test_size = b.mc.test_size if "test_size" in b.mc.model_fields_set else 0.2
    train, test = split_ratings(ratings, test_size=test_size, seed=b.cfg.seed)
    items = _item_table(b, ratings["item_id"])
    items["popularity"] = items["item_id"].map(item_popularity(train)).fillna(0).astype(int)
    scale = (float(ratings["rating"].min()), float(ratings["rating"].max()))
    algorithm = str(b.algorithm)
    cat = ("category",) if "category" in items.columns else ()
    num = ("price",) if "price" in items.columns else ()
    with threadpool_limits(limits=1):
        if algorithm == "user_knn":
            model = _estimator_params(b, KNNWithMeansRecommender, k=40, n_neighbours=200, rating_scale=scale).fit(train, items=list(items["item_id"]))
        elif algorithm == "content":
            model = _estimator_params(b, ContentRecommender, categorical=cat, numeric=num, rating_scale=scale).fit(train, items)
        else:
            params = dict(b.mc.params)
            weight = float(params.pop("weight", 0.6))
            content = ContentRecommender(categorical=cat, numeric=num, rating_scale=scale).fit(train, items)
            try:
                knn = KNNWithMeansRecommender(**{"k": 40, "n_neighbours": 200, "rating_scale": scale, **params}).fit(train, items=content.items_)
            except TypeError as exc:
                raise b.err("params", f"invalid params for algorithm 'hybrid': {exc}", "hybrid reads 'weight' and the user_knn parameters") from None
            model = HybridRecommender(knn, content, weight=weight, rating_scale=scale).fit(train, items, prefitted=True)
        opted_out = _opted_out(b)
        users = [u for u in pd.unique(train["user_id"]) if u not in opted_out]
        prices = items.set_index("item_id")["price"] if "price" in items.columns else None
        recs = model.recommend(users, k=b.mc.k, item_prices=prices)
        metrics = evaluate_recommender(model, test[test["user_id"].isin(set(users))], k=b.mc.k, recommendations=recs, n_catalogue=len(items))
    if opted_out:
        notes.append(f"{len(set(train['user_id']) & opted_out)} rater(s) with {b.mc.consent_column} = False get no personalised list")
    notes.append(f"per-user hold-out of {test_size:.0%} of each user's ratings (users with at least 5 ratings), seed {b.cfg.seed}; rating scale {scale[0]:g}-{scale[1]:g}")
    user_sensitive = _user_attributes(b, users)
    features = ["user_id", "item_id", "rating"] + ([] if algorithm == "user_knn" else [c for c in ("category", "price") if c in items.columns])
    return RecommenderArtifact(
        name=b.mc.name, algorithm={"user_knn": "knn_with_means_pearson", "content": "content_cosine", "hybrid": "hybrid_knn_content"}[algorithm],
        purpose=b.mc.purpose, dataset=b.mc.dataset, features=features, estimator=model, ids=np.asarray(users, dtype=object),
        sensitive=user_sensitive.reset_index(drop=True), metrics=metrics, training_rows=len(train), notes=notes, recommendations=recs,
        item_features=items, test_ratings=test.reset_index(drop=True), k=b.mc.k, user_sensitive=user_sensitive, source=b.mc.source,
    )


def build_recommender_file(b: ModelBuild) -> Any:
    from audit.crm.artifacts import RecommenderArtifact
    from audit.crm.recommend import item_popularity, ranking_metrics

    recs_in, path = read_output_file(b, "recommendations file", ("user", "item", "rank"), ("score",))
    rank = pd.to_numeric(recs_in["rank"], errors="coerce")
    reject_rows(path, recs_in, (rank.isna() | (rank < 1) | (rank != rank.round())).to_numpy(), "have a rank that is not a whole number >= 1", "rank 1 is the first item shown")
    reject_rows(path, recs_in, recs_in[["user", "item"]].isna().any(axis=1).to_numpy(), "lack a user or an item")
    reject_rows(path, recs_in, recs_in.duplicated(["user", "rank"], keep=False).to_numpy(), "repeat a (user, rank) pair", "each position of a list holds one item")
    reject_rows(path, recs_in, recs_in.duplicated(["user", "item"], keep=False).to_numpy(), "repeat a (user, item) pair", "an item appears once per list")
    ratings, notes = _ratings(b)
    # ids in the file are read as the ratings' ids are (both by pandas); align their types by text
    user_key = {str(u): u for u in pd.unique(ratings["user_id"])}
    item_key = {str(i): i for i in pd.unique(ratings["item_id"])}
    items = _item_table(b, ratings["item_id"])
    item_key.update({str(i): i for i in items["item_id"]})
    recs = pd.DataFrame(
        {
            "user_id": [user_key.get(str(u), u) for u in recs_in["user"]],
            "rank": rank.astype(int).to_numpy(),
            "item_id": [item_key.get(str(i), i) for i in recs_in["item"]],
            "score": pd.to_numeric(recs_in["score"], errors="coerce").to_numpy(dtype=float) if "score" in recs_in.columns else np.nan,
        }
    )
    unknown = ~recs["item_id"].isin(set(items["item_id"]))
    if b.mc.items:
        reject_rows(path, recs_in, unknown.to_numpy(), f"recommend an item that is not in items dataset {b.mc.items!r}", "the items dataset must list every recommended item")
    elif unknown.any():
        items = pd.concat([items, pd.DataFrame({"item_id": pd.unique(recs.loc[unknown, "item_id"])})], ignore_index=True)
    items["popularity"] = items["item_id"].map(item_popularity(ratings)).fillna(0).astype(int)
    if "price" in items.columns:
        recs["price"] = recs["item_id"].map(items.set_index("item_id")["price"]).astype(float)
    k = b.mc.k if "k" in b.mc.model_fields_set else int(recs["rank"].max())
    users = list(pd.unique(recs["user_id"]))
    liked = ratings[ratings["rating"] >= 4.0]
    metrics = ranking_metrics(recs, liked[liked["user_id"].isin(set(users))], k)
    metrics["coverage"] = float(recs.loc[recs["rank"] <= k, "item_id"].nunique() / len(items)) if len(items) else float("nan")
    notes.append(f"recommendations imported from {path.name}; dataset {b.ds.name!r} is read as the held-out ratings they are judged against")
    user_sensitive = _user_attributes(b, users)
    b.ctx.limitations.append(f"model {b.mc.name} was audited from its recommendations file: neighbour explanations are not available for it")
    return RecommenderArtifact(
        name=b.mc.name, algorithm=b.mc.algorithm or "external (recommendations only)", purpose=b.mc.purpose, dataset=b.mc.dataset,
        features=["user_id", "item_id"], estimator=None, ids=np.asarray(users, dtype=object), sensitive=user_sensitive.reset_index(drop=True),
        metrics=metrics, training_rows=0, notes=notes, recommendations=recs, item_features=items, test_ratings=ratings, k=k,
        user_sensitive=user_sensitive, source=b.mc.source,
    )


# --------------------------------------------------------------------------- text classifier


def _text_frame(b: ModelBuild) -> tuple[pd.DataFrame, str, str | None]:
    text = b.mc.text or b.ds.roles.text[0]
    target = b.mc.target or b.ds.roles.target
    if target and target not in b.ds.frame.columns:
        raise b.err("target", f"column {target!r} is not in dataset {b.ds.name!r}")
    frame = b.ds.frame
    keep = frame[text].notna() & (frame[text].astype("string").str.strip() != "")
    if target:
        keep &= frame[target].notna()
    frame = frame[keep.fillna(False).to_numpy()]
    if frame.empty:
        raise b.err("dataset", f"dataset {b.ds.name!r} has no row with a text" + (" and a label" if target else ""))
    return frame, text, target


def _languages(b: ModelBuild, rows: pd.DataFrame, text: str) -> pd.Series:
    from audit.crm.nlp import detect_language

    if b.ds.language_column:
        return rows[b.ds.language_column].astype("string").reset_index(drop=True)
    if b.mc.language != "auto":
        return pd.Series([b.mc.language] * len(rows), dtype="string")
    return pd.Series([detect_language(str(t)) for t in rows[text]], dtype="string")


def _text_sensitive(b: ModelBuild, rows: pd.DataFrame) -> pd.DataFrame:
    own = protected_of(b, rows)
    if not b.mc.users:
        return own
    uds = b.dataset(b.mc.users)
    table = uds.frame.drop_duplicates(str(uds.roles.id)).set_index(uds.frame.drop_duplicates(str(uds.roles.id))[str(uds.roles.id)].astype(str))
    joined = table.reindex(rows[str(b.ds.roles.user)].astype(str).to_numpy())[list(uds.roles.protected)].reset_index(drop=True)
    return pd.concat([own, joined.drop(columns=[c for c in joined.columns if c in own.columns])], axis=1)


def _positive(b: ModelBuild, values: pd.Series, where: str) -> Any:
    """Positive label of a binary target; None for more than two classes (topics)."""
    from audit.config.project import _label_error, _positive_label

    if values.nunique(dropna=True) != 2:
        return None
    try:
        return _positive_label(values, b.cfg.datasets[b.mc.dataset].positive_labels, str(values.name or "target"))
    except ValueError as exc:
        raise _label_error(exc, b.config_file, b.mc.dataset) from None


def _text_artifact(b: ModelBuild, rows: pd.DataFrame, text: str, *, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, labels: list[Any], predict_proba: Any, estimator: Any, algorithm: str, positive: Any, training_rows: int, notes: list[str]) -> Any:
    from audit.crm.artifacts import TextModelArtifact
    from audit.crm.nlp import evaluate_text_classifier

    labelled = np.asarray([v is not None and not (isinstance(v, float) and np.isnan(v)) for v in y_true], dtype=bool)
    metrics = evaluate_text_classifier(y_true[labelled], y_pred[labelled]) if labelled.any() else {}
    return TextModelArtifact(
        name=b.mc.name, algorithm=algorithm, purpose=b.mc.purpose, dataset=b.mc.dataset, features=[text], estimator=estimator,
        ids=rows[b.ds.roles.id].to_numpy() if b.ds.roles.id else rows.index.to_numpy(), sensitive=_text_sensitive(b, rows), metrics=metrics,
        training_rows=training_rows, notes=notes, texts=rows[text].astype(str).reset_index(drop=True), y_true=y_true, y_pred=y_pred,
        y_score=proba if proba is not None else np.empty((len(rows), 0)), language=_languages(b, rows, text), predict_proba=predict_proba,
        labels=labels, positive_label=positive, source=b.mc.source,
    )


def build_text_train(b: ModelBuild) -> Any:
    from audit.crm.nlp import TextClassifier

    frame, text, target = _text_frame(b)
    assert target is not None  # checked at load
    y = frame[target]
    if y.nunique() < 2:
        raise b.err("target", f"target {target!r} has a single value ({y.iloc[0]!r}): nothing to classify")
    positive = _positive(b, y, f"datasets.{b.mc.dataset}.positive_labels")
    train, test = eval_split(b, frame, stratify=y)
    model = _estimator_params(b, TextClassifier, language=b.mc.language, random_state=b.cfg.seed).fit(train[text].astype(str), train[target])
    proba = model.predict_proba(test[text].astype(str))
    pred = np.asarray(model.classes_)[proba.argmax(axis=1)]
    notes = [f"TF-IDF (word 1-2 grams) + logistic regression; stratified {b.mc.test_size:.0%} hold-out, seed {b.cfg.seed}"]
    return _text_artifact(
        b, test, text, y_true=test[target].to_numpy(), y_pred=pred, proba=proba, labels=list(model.classes_), predict_proba=model.predict_proba,
        estimator=model, algorithm="tfidf_logistic_regression", positive=positive, training_rows=len(train), notes=notes,
    )


def build_text_loaded(b: ModelBuild) -> Any:
    est = _load(b)
    frame, text, target = _text_frame(b)
    probe = [str(t) for t in frame[text].head(5)]
    proba_fn = getattr(est, "predict_proba", None)
    if not callable(proba_fn):
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded object ({type(est).__name__}) has no predict_proba", hint="save a classifier pipeline that takes raw text and returns class probabilities"))
    try:
        out = np.asarray(proba_fn(probe), dtype=float)
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded model cannot score raw text: {type(exc).__name__}: {exc}", hint="save the whole pipeline (vectoriser + classifier) so that predict_proba takes a list of strings")) from None
    classes = list(getattr(est, "classes_", []))
    if out.ndim != 2 or out.shape[0] != len(probe) or out.shape[1] != len(classes):
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"predict_proba returned shape {out.shape} for {len(probe)} texts and {len(classes)} classes_", hint="the model needs classes_ and one probability column per class"))
    if target:
        positive = _positive(b, frame[target], f"datasets.{b.mc.dataset}.positive_labels")
        _, rows = eval_split(b, frame, stratify=frame[target])
        y_true = rows[target].to_numpy()
        where = f"a {b.mc.test_size:.0%} sample of {b.ds.name}"
    else:
        positive, rows = None, frame
        y_true = np.full(len(rows), None, dtype=object)
        where = f"all {len(rows)} texts of {b.ds.name} (no target: accuracy is not measured)"
    proba = np.asarray(proba_fn([str(t) for t in rows[text]]), dtype=float)
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    if len(classes) == 2 and positive is None and target is None:
        positive = classes[1]
    return _text_artifact(
        b, rows, text, y_true=y_true, y_pred=pred, proba=proba, labels=classes, predict_proba=lambda texts: np.asarray(proba_fn(list(texts)), dtype=float),
        estimator=est, algorithm=type(est).__name__, positive=positive, training_rows=0, notes=[_loaded_note(b, where)],
    )


def build_text_predictions(b: ModelBuild) -> Any:
    pred, path = read_output_file(b, "predictions file", ("id", "y_true", "y_pred"), ("score",))
    validate_predictions(pred, file=str(path))
    text = b.mc.text or b.ds.roles.text[0]
    rows = join_by_id(b, path, pred["id"])
    labels = sorted(pd.unique(pd.concat([pred["y_true"].dropna(), pred["y_pred"]])), key=str)
    positive = _positive(b, pred["y_true"].dropna(), f"{b.loc}.path")
    proba = None
    if "score" in pred.columns and len(labels) == 2 and positive is not None:
        score = pd.to_numeric(pred["score"], errors="coerce")
        reject_rows(path, pred, (score.isna() | (score < 0) | (score > 1)).to_numpy(), "have a score that is missing or outside [0, 1]", "score is the probability of the positive label")
        s = score.to_numpy(dtype=float)
        proba = np.column_stack([1 - s, s]) if labels[1] == positive else np.column_stack([s, 1 - s])
    b.ctx.limitations.append(f"model {b.mc.name} was audited from a predictions file: identity swaps and word-level explanations need the model")
    return _text_artifact(
        b, rows.reset_index(drop=True), text, y_true=pred["y_true"].to_numpy(), y_pred=pred["y_pred"].to_numpy(), proba=proba, labels=labels,
        predict_proba=None, estimator=None, algorithm=b.mc.algorithm or "external (predictions only)", positive=positive, training_rows=0,
        notes=["audited from a predictions file: the model itself was not shared"],
    )


# --------------------------------------------------------------------------- segmentation


def _segment_frame(b: ModelBuild) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rows to segment and their numeric features (RFM added when configured); notes."""
    from audit.crm.segmentation import rfm_features

    frame = b.ds.frame
    notes: list[str] = []
    feats = list(b.mc.features or b.ds.roles.features)
    if b.mc.rfm is not None:
        rc = b.mc.rfm
        tx = b.dataset(rc.dataset)
        missing = [c for c in (rc.customer, rc.date, rc.amount) if c not in tx.frame.columns]
        if missing:
            raise b.err("rfm", f"column(s) {missing} not in dataset {tx.name!r}", "available columns: " + ", ".join(map(str, tx.frame.columns[:40])))
        try:
            rfm = rfm_features(tx.frame.dropna(subset=[rc.customer, rc.date]), rc.customer, rc.date, rc.amount, as_of=rc.as_of)
        except Exception as exc:
            raise b.err("rfm", f"cannot compute recency, frequency, monetary from dataset {tx.name!r}: {type(exc).__name__}: {exc}", f"{rc.date} must hold dates and {rc.amount} numbers") from None
        rfm.index = rfm.index.astype(str)
        key = frame[str(b.ds.roles.id)].astype(str)
        frame = frame.drop(columns=[c for c in rfm.columns if c in frame.columns]).assign(**{c: key.map(rfm[c]).to_numpy() for c in rfm.columns})
        no_tx = frame["frequency"].isna()
        if no_tx.any():
            notes.append(f"{int(no_tx.sum())} customer(s) without transactions have no RFM features and are not segmented")
            frame = frame[~no_tx.to_numpy()]
        feats = feats or ["recency", "frequency", "monetary"]
        notes.append(f"RFM features from dataset {tx.name!r}" + (f" as of {rc.as_of}" if rc.as_of else " as of the day after the last purchase"))
    missing = [c for c in feats if c not in frame.columns]
    if missing:
        raise b.err("features", f"column(s) {missing} not in dataset {b.ds.name!r}", "available columns: " + ", ".join(map(str, frame.columns[:40])))
    X = frame[feats].apply(pd.to_numeric, errors="coerce")
    for c in feats:
        bad = X[c].isna() & frame[c].notna()
        if bad.any():
            raise b.err("features", f"feature {c!r} must be numeric for clustering; {int(bad.sum())} value(s) are not, e.g. {frame[c][bad].iloc[0]!r}", "segment on numeric columns (encode categories first)")
    incomplete = X.isna().any(axis=1)
    if incomplete.all():
        raise b.err("features", "every row has a missing feature value: nothing to segment")
    if incomplete.any():
        notes.append(f"{int(incomplete.sum())} row(s) with a missing feature value are not segmented")
    frame = frame[~incomplete.to_numpy()].assign(**{c: X.loc[~incomplete, c].to_numpy(dtype=float) for c in feats})
    return frame, feats, notes


def _treatments(b: ModelBuild, labels: np.ndarray) -> dict[str, str] | None:
    if not b.mc.treatments:
        return None
    present = {str(v) for v in pd.unique(pd.Series(labels).astype(str))}
    mapping = {("-1" if k == "noise" else k): v for k, v in b.mc.treatments.items()}
    unknown = sorted(set(mapping) - present)
    if unknown:
        raise b.err("treatments", f"segment(s) {unknown} do not exist", "segments found: " + ", ".join(sorted(present, key=lambda s: (len(s), s))) + " (fix the number of segments with params: {n_clusters: N} for kmeans)")
    return mapping


def _segmentation_artifact(b: ModelBuild, rows: pd.DataFrame, X: pd.DataFrame, labels: np.ndarray, *, estimator: Any, algorithm: str, metrics: dict[str, float], notes: list[str], training_rows: int) -> Any:
    from audit.crm.artifacts import SegmentationArtifact
    from audit.crm.segmentation import segment_profiles

    names = pd.Series(labels).astype(str)
    profiles = segment_profiles(X, labels) if X.shape[1] else segment_profiles(pd.DataFrame(index=range(len(labels))), labels)
    return SegmentationArtifact(
        name=b.mc.name, algorithm=algorithm, purpose=b.mc.purpose, dataset=b.mc.dataset, features=list(X.columns), estimator=estimator,
        ids=rows[b.ds.roles.id].to_numpy() if b.ds.roles.id else rows.index.to_numpy(), sensitive=protected_of(b, rows), metrics=metrics,
        training_rows=training_rows, notes=notes, X=X.reset_index(drop=True), labels=labels, profiles=profiles,
        treatment=_treatments(b, labels), noise_count=int((names == "-1").sum()), source=b.mc.source,
    )


def build_segmentation_train(b: ModelBuild) -> Any:
    from threadpoolctl import threadpool_limits

    from audit.crm.segmentation import DBSCANSegmenter, KMeansSegmenter

    rows, feats, notes = _segment_frame(b)
    X = rows[feats].reset_index(drop=True)
    if len(X) < 3:
        raise b.err("dataset", f"only {len(X)} row(s) can be segmented: too few to cluster")
    algorithm = str(b.algorithm)
    with threadpool_limits(limits=1):
        if algorithm == "kmeans":
            model = _estimator_params(b, KMeansSegmenter, random_state=b.cfg.seed).fit(X)
        else:
            model = _estimator_params(b, DBSCANSegmenter).fit(X)
    metrics: dict[str, float] = {"n_segments": float(model.n_clusters_), "noise_share": float(model.noise_count_ / len(X))}
    if algorithm == "kmeans":
        metrics["silhouette"] = float(model.silhouette_)
    else:
        metrics["eps"] = float(model.eps_)
    scaling = "log1p-transformed and " if getattr(model, "log1p", False) else ""
    notes.append(f"features {scaling}standardised before clustering; profiles in original units")
    return _segmentation_artifact(b, rows, X, np.asarray(model.labels_), estimator=model, algorithm=algorithm, metrics=metrics, notes=notes, training_rows=len(X))


def build_segmentation_loaded(b: ModelBuild) -> Any:
    est = _load(b)
    rows, feats, notes = _segment_frame(b)
    X = rows[feats].reset_index(drop=True)
    if not callable(getattr(est, "predict", None)):
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded object ({type(est).__name__}) has no predict method, so segments cannot be assigned", hint="save a segmenter with predict (e.g. KMeans), or export the segments and use source: assignments"))
    try:
        labels = np.asarray(est.predict(X)).ravel()
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=str(b.mc.path), message=f"the loaded model cannot assign segments from the declared features: {type(exc).__name__}: {exc}", hint="features in audit.yaml must match the model's training columns")) from None
    notes.append(_loaded_note(b, f"all {len(X)} rows of {b.ds.name}"))
    n_seg = len(set(map(str, labels)) - {"-1"})
    return _segmentation_artifact(b, rows, X, labels, estimator=est, algorithm=type(est).__name__, metrics={"n_segments": float(n_seg)}, notes=notes, training_rows=0)


def build_segmentation_assignments(b: ModelBuild) -> Any:
    table, path = read_output_file(b, "assignments file", ("id", "segment"))
    validate_predictions(table, file=str(path), label_columns=("segment",), score_column="")
    rows = join_by_id(b, path, table["id"])
    feats = [c for c in (b.mc.features or b.ds.roles.features) if c in rows.columns]
    X = rows[feats].apply(pd.to_numeric, errors="coerce") if feats else pd.DataFrame(index=rows.index)
    labels = table["segment"].astype(str).to_numpy(dtype=object)
    n_missing = len(b.ds.frame) - len(table)
    notes = [f"segments imported from {path.name}"]
    if n_missing > 0:
        notes.append(f"{n_missing} row(s) of dataset {b.ds.name!r} have no segment in the file and are left out")
    n_seg = len(set(labels) - {"-1"})
    return _segmentation_artifact(b, rows.reset_index(drop=True), X.reset_index(drop=True), labels, estimator=None, algorithm=b.mc.algorithm or "external (assignments only)", metrics={"n_segments": float(n_seg)}, notes=notes, training_rows=0)


# --------------------------------------------------------------------------- dispatch


def _classifier(b: ModelBuild) -> Any:
    from audit.config.project import _build_classifier

    return _build_classifier(b)


BUILDERS: dict[tuple[str, str], Callable[[ModelBuild], Any]] = {
    ("classifier", "train"): _classifier,
    ("classifier", "skops"): _classifier,
    ("classifier", "pickle"): _classifier,
    ("classifier", "predictions"): _classifier,
    ("regressor", "train"): build_regressor_train,
    ("regressor", "skops"): build_regressor_loaded,
    ("regressor", "pickle"): build_regressor_loaded,
    ("regressor", "predictions"): build_regressor_predictions,
    ("recommender", "train"): build_recommender_train,
    ("recommender", "recommendations"): build_recommender_file,
    ("text_classifier", "train"): build_text_train,
    ("text_classifier", "skops"): build_text_loaded,
    ("text_classifier", "pickle"): build_text_loaded,
    ("text_classifier", "predictions"): build_text_predictions,
    ("segmentation", "train"): build_segmentation_train,
    ("segmentation", "skops"): build_segmentation_loaded,
    ("segmentation", "pickle"): build_segmentation_loaded,
    ("segmentation", "assignments"): build_segmentation_assignments,
}


def build_model(b: ModelBuild) -> Any:
    return BUILDERS[(b.mc.kind, b.mc.source)](b)
