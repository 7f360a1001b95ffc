"""Build an audit context from audit.yaml: read datasets, then train, load or import each model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.config.labels import apply_label_map, check_split, positive_label, value_counts_text
from audit.config.loader import read_dataset, sha256_file
from audit.config.models import AuditConfig, ModelConfig
from audit.config.predictions import validate_predictions
from audit.config.reading import DEFAULT_NA_VALUES, ReadError, apply_na_values, is_text, read_csv_file, show, strip_whitespace, value_key
from audit.core.context import AuditContext, Dataset
from audit.core.errors import AuditInputError, ErrorItem

def context_from_config(
    cfg: AuditConfig, *, base: Path, config_file: str, trust_pickle: bool = False, progress: Callable[[str], None] | None = None
) -> tuple[AuditContext, list[dict[str, Any]]]:
    inputs: list[dict[str, Any]] = []
    datasets: dict[str, Dataset] = {}
    for name, dc in cfg.datasets.items():
        if progress:
            progress(f"reading dataset {name}")
        targets = [m.target for m in cfg.models if m.dataset == name and m.target]
        ds = read_dataset(name, dc, base=base, config_file=config_file, targets=targets)
        datasets[name] = ds
        if dc.source.path and not dc.source.url:
            inputs.append({"role": "dataset", "kind": "file", "name": name, "path": str((base / dc.source.path).resolve()), "sha256": ds.sha256, "read": ds.reading})
        else:
            inputs.append({"role": "dataset", "kind": "query", "name": name, "path": ds.source, "sha256": ds.sha256, "read": ds.reading})
    ctx = AuditContext(datasets=datasets, models=[], config=cfg, seed=cfg.seed, pii_options=cfg.pii, reason_code_mapping=dict(cfg.reason_codes))
    for i, mc in enumerate(cfg.models):
        if progress:
            progress(f"preparing model {mc.name}")
        ds = datasets[mc.dataset]
        loc = f"models[{i}]"
        artifact = _build_model(mc, ds, cfg, base=base, config_file=config_file, loc=loc, trust_pickle=trust_pickle, ctx=ctx, datasets=datasets)
        if mc.path:
            p = (base / mc.path).resolve()
            inputs.append({"role": "model" if mc.source in ("skops", "pickle") else mc.source, "kind": "file", "name": mc.name, "path": str(p), "sha256": sha256_file(p)})
        _record_imputation(ds, mc.name, artifact)
        _record_preparation(ds, mc, cfg.seed)
        ctx.models.append(artifact)
    return ctx, inputs


def _record_positive(ds: Dataset, model: str, values: pd.Series, pos: Any, target: str, declared: list[str]) -> None:
    """Which value was taken as the positive class, and why, in the dataset's record (shown with repr)."""
    how = "declared in positive_labels" if declared else "the yes/true value of a yes/no target"
    ds.preprocessing.setdefault("positive_class", {})[model] = {"target": target, "positive": show(pos), "how": how, "values": value_counts_text(values)}


def _record_preparation(ds: Dataset, mc: ModelConfig, seed: int) -> None:
    """How the rows were split and the features prepared for one model, for the report's methodology."""
    from audit.crm.preprocess import CRMPreprocessor

    prep = CRMPreprocessor()
    evaluate = f"{1 - mc.test_size:.0%} of the rows with a target train the model and {mc.test_size:.0%} evaluate it"
    if mc.source == "predictions":
        text = "every row of the predictions file is evaluated; the model's own preparation of the data is not known to the audit"
    elif mc.source in ("skops", "pickle") and mc.kind != "segmentation":
        text = f"the loaded model is evaluated on a random {mc.test_size:.0%} of the rows with a target (seed {seed}); it prepares the data itself"
    elif mc.kind in ("classifier", "regressor"):
        strat = ", stratified by the target" if mc.kind == "classifier" else ""
        text = (
            f"{evaluate} (random split{strat}, seed {seed}; test_size and seed are set in audit.yaml). "
            f"Numbers stored as text are read as numbers when at least {prep.numeric_text_threshold:.0%} of the filled cells parse; "
            "missing numbers are filled with the training median and standardised; missing categories are filled with the most frequent value "
            f"and one-hot encoded with at most {prep.max_categories} columns per attribute (rarer values grouped as one 'infrequent' column)"
        )
    else:
        return
    ds.preprocessing.setdefault("preparation", {})[mc.name] = text


def _record_imputation(ds: Dataset, model: str, artifact: Any) -> None:
    """Missing values the model's preprocessing filled in, per column, in the dataset's record."""
    report = getattr(getattr(artifact, "preprocessor", None), "report_", None) or {}
    imputed = {str(c): int(n) for c, n in (report.get("values_imputed") or {}).items() if n}
    if imputed:
        ds.preprocessing.setdefault("imputed_by_model", {})[model] = imputed


def _positive_label(values: pd.Series, positive_labels: list[str], column: str = "target") -> Any:
    """The positive class of a binary target (raises LabelError, a ValueError, naming the fix)."""
    return positive_label(values, positive_labels, column=column)


def _label_error(exc: ValueError, config_file: str, dataset: str) -> AuditInputError:
    key = getattr(exc, "key", "positive_labels")
    return _err(config_file, f"datasets.{dataset}.{key}", str(exc), getattr(exc, "hint", "list the positive class value under positive_labels"))


def _err(config_file: str, loc: str, message: str, hint: str = "") -> AuditInputError:
    return AuditInputError(ErrorItem(file=config_file, path=loc, message=message, hint=hint))


def _features(mc: ModelConfig, ds: Dataset, target: str | None) -> list[str]:
    feats = mc.features or ds.roles.features
    if not feats:
        excluded = {ds.roles.id, target, *ds.roles.text, *ds.roles.timestamps}
        feats = [c for c in map(str, ds.frame.columns) if c not in excluded]
    return list(feats)


def _drop_empty_features(feats: list[str], mc: ModelConfig, ds: Dataset, config_file: str, loc: str, ctx: AuditContext) -> list[str]:
    """Columns missing in every row carry nothing to learn: refused when listed, left out (and said so) by default."""
    empty = [c for c in feats if ds.frame[c].isna().all()]
    if not empty:
        return feats
    declared = mc.features or ds.roles.features
    if declared:
        raise _err(config_file, f"{loc}.features", f"feature column(s) {empty} are missing in every row of dataset {ds.name!r}", "remove them from the features, or fix the source")
    ctx.limitations.append(f"model {mc.name}: column(s) {', '.join(empty)} are missing in every row and were left out of its features")
    return [c for c in feats if c not in empty]


def _check_columns(cols: list[str], ds: Dataset, config_file: str, loc: str) -> None:
    missing = [c for c in cols if c not in ds.frame.columns]
    if missing:
        raise _err(config_file, f"{loc}.features", f"column(s) {missing} not in dataset {ds.name!r}", "available columns: " + ", ".join(map(str, ds.frame.columns[:40])))


def _build_model(mc: ModelConfig, ds: Dataset, cfg: AuditConfig, *, base: Path, config_file: str, loc: str, trust_pickle: bool, ctx: AuditContext, datasets: dict[str, Dataset]) -> Any:
    from audit.config.builders import ModelBuild, build_model

    build = ModelBuild(mc=mc, ds=ds, cfg=cfg, datasets=datasets, base=base, config_file=config_file, loc=loc, trust_pickle=trust_pickle, ctx=ctx)
    artifact = build_model(build)
    artifact.source = mc.source
    return artifact


def _build_classifier(b: Any) -> Any:
    mc, ds, cfg, base, config_file, loc, trust_pickle, ctx = b.mc, b.ds, b.cfg, b.base, b.config_file, b.loc, b.trust_pickle, b.ctx
    target = mc.target or ds.roles.target
    dc = cfg.datasets[mc.dataset]
    if mc.source == "predictions":
        artifact = _from_predictions(mc, ds, base=base, config_file=config_file, loc=loc, dc_pos=dc.positive_labels, label_map=dc.label_map)
        ctx.limitations.append(f"model {mc.name} was audited from a predictions file: explanations (SHAP, reason codes) are not available for it")
        return artifact
    feats = _features(mc, ds, target)
    cols = [*feats, *([target] if target else [])]
    _check_columns(cols, ds, config_file, loc)
    feats = _drop_empty_features(feats, mc, ds, config_file, loc, ctx)
    from audit.crm.classify import train_classifier
    from audit.crm.preprocess import coerce_numeric_text

    frame = ds.frame.copy()
    frame = frame[frame[target].notna()] if target else frame
    # numbers stored as text with blank cells are coerced here; the preprocessor records imputation
    for c in feats:
        if is_text(frame[c]):
            coerced = coerce_numeric_text(frame[c])
            if coerced.notna().sum() >= 0.9 * frame[c].astype("string").str.strip().replace("", pd.NA).notna().sum() and coerced.notna().any():
                frame[c] = coerced
    try:
        pos = _positive_label(frame[target], dc.positive_labels, target)
        check_split(frame[target], test_size=mc.test_size, column=target)
    except ValueError as exc:
        raise _label_error(exc, config_file, mc.dataset) from None
    _record_positive(ds, mc.name, frame[target], pos, target, dc.positive_labels)
    if mc.source in ("skops", "pickle"):
        est = _load_estimator(mc, base=base, config_file=config_file, loc=loc, trust_pickle=trust_pickle, ctx=ctx)
        return _artifact_from_fitted(mc, est, frame, feats, target, pos, ds, seed=cfg.seed)
    return train_classifier(
        frame, target, feats, b.algorithm, name=mc.name, purpose=mc.purpose, dataset=mc.dataset, id_column=ds.roles.id,
        sensitive_columns=[c for c in ds.roles.protected if c in frame.columns], positive_label=pos,
        favourable_outcome="negative" if mc.adverse_outcome == "positive" else "positive", threshold=mc.threshold,
        test_size=mc.test_size, random_state=cfg.seed, **mc.params,
    )


def _load_estimator(mc: ModelConfig, *, base: Path, config_file: str, loc: str, trust_pickle: bool, ctx: AuditContext) -> Any:
    path = (base / str(mc.path)).resolve()
    if not path.exists():
        raise _err(config_file, f"{loc}.path", f"model file not found: {path}")
    if mc.source == "skops":
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise _err(config_file, f"{loc}.path", f"not a readable skops file ({type(exc).__name__}: {exc})", "re-export the model with skops.io.dump") from None
        unreviewed = [t for t in untrusted if t not in mc.trusted_types]
        if unreviewed:
            raise _err(
                config_file,
                f"{loc}.trusted_types",
                f"the skops file {path.name} contains types that are not trusted by default: {unreviewed}",
                "review them, then list them under trusted_types for this model to confirm",
            )
        try:
            return sio.load(path, trusted=untrusted)
        except Exception as exc:
            raise _err(config_file, f"{loc}.path", f"cannot load skops file: {type(exc).__name__}: {exc}") from None
    if not trust_pickle:
        raise _err(config_file, f"{loc}.source", f"refusing to load {path.name} with pickle: unpickling runs arbitrary code", "export the model with skops, or pass --trust-pickle if you trust the file")
    import joblib

    try:
        est = joblib.load(path)
    except Exception as exc:
        raise _err(config_file, f"{loc}.path", f"cannot unpickle model file: {type(exc).__name__}: {exc}") from None
    ctx.limitations.append(f"model {mc.name} was loaded from a pickle file with --trust-pickle; its integrity rests on the sha256 in the manifest only")
    return est


def _artifact_from_fitted(mc: ModelConfig, est: Any, frame: pd.DataFrame, feats: list[str], target: str, pos: Any, ds: Dataset, *, seed: int = 0) -> Any:
    from sklearn.model_selection import train_test_split

    from audit.crm.artifacts import ClassifierArtifact
    from audit.crm.classify import evaluate_classifier

    _, test = train_test_split(frame, test_size=mc.test_size, random_state=seed)
    X_eval = test[feats].reset_index(drop=True)
    try:
        score = est.predict_proba(X_eval)[:, 1]
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=str(mc.path), message=f"the loaded model cannot score the declared features: {type(exc).__name__}: {exc}", hint="features in audit.yaml must match the model's training columns")) from None
    truth = test[target].to_numpy()
    neg = next((v for v in pd.unique(frame[target]) if v != pos), 0)
    pred = np.where(score >= mc.threshold, pos, neg)
    return ClassifierArtifact(
        name=mc.name, algorithm=type(est).__name__, purpose=mc.purpose, dataset=mc.dataset, features=feats, estimator=est,
        ids=test[ds.roles.id].to_numpy() if ds.roles.id else test.index.to_numpy(),
        sensitive=test[[c for c in ds.roles.protected if c in test.columns]].reset_index(drop=True),
        metrics=evaluate_classifier(truth, score, mc.threshold, pos), training_rows=0,
        notes=[f"loaded from {mc.source} file {Path(str(mc.path)).name} (the audited model is this file, not a retrained copy); evaluated on a {mc.test_size:.0%} sample of {ds.name}"],
        X_eval=X_eval, y_true=truth, y_pred=pred, y_score=score, threshold=mc.threshold, positive_label=pos,
        favourable_outcome="negative" if mc.adverse_outcome == "positive" else "positive",
        X_train_sample=frame[feats].sample(min(200, len(frame)), random_state=0).reset_index(drop=True),
    )


def _from_predictions(mc: ModelConfig, ds: Dataset, *, base: Path, config_file: str, loc: str, dc_pos: list[str], label_map: dict[str, str] | None = None) -> Any:
    from audit.crm.artifacts import ClassifierArtifact
    from audit.crm.classify import evaluate_classifier

    path = (base / str(mc.path)).resolve()
    if not path.exists():
        raise _err(config_file, f"{loc}.path", f"predictions file not found: {path}")
    try:
        pred, _record = read_csv_file(path, {})
    except ReadError as exc:
        raise AuditInputError(ErrorItem(file=str(path), message=f"cannot read predictions file: {exc}", hint=exc.hint)) from None
    except Exception as exc:
        raise _err(config_file, f"{loc}.path", f"cannot read predictions CSV: {exc}") from None
    need = ["id", "y_true", "y_pred"]
    missing = [c for c in need if c not in pred.columns]
    if missing:
        raise AuditInputError(ErrorItem(file=str(path), message=f"predictions file lacks column(s) {missing}", hint="columns: id, y_true, y_pred and optionally score"))
    if pred.empty:
        raise AuditInputError(ErrorItem(file=str(path), message="predictions file has no rows"))
    strip_whitespace(pred)
    apply_na_values(pred, DEFAULT_NA_VALUES)
    validate_predictions(pred, file=str(path))
    for col in ("y_true", "y_pred"):
        apply_label_map(pred, col, label_map or {})
    if not ds.roles.id:
        raise _err(config_file, f"datasets.{ds.name}.roles.id", "a predictions file is joined to its dataset by id: declare roles.id")
    keys = ds.frame[ds.roles.id].map(lambda v: value_key(v) if pd.notna(v) else None)
    frame = ds.frame.set_index(keys)
    ids = pred["id"].map(value_key)
    unknown = (~ids.isin(frame.index)).sum()
    if unknown:
        first = ", ".join(map(repr, ids[~ids.isin(frame.index)].head(5)))
        raise AuditInputError(ErrorItem(file=str(path), path="id", message=f"{unknown} prediction id(s) not found in dataset {ds.name!r} (first: {first})", hint=f"ids are matched with column {ds.roles.id!r} of {ds.name!r}"))
    dup_in_data = frame.index[frame.index.duplicated()].intersection(ids)
    if len(dup_in_data):
        used = [c for c in dict.fromkeys([*ds.roles.protected, *mc.features]) if c in frame.columns]
        sub = frame.loc[frame.index.isin(dup_in_data), used]
        conflicting = [k for k, grp in sub.groupby(level=0) if len(grp.astype("string").drop_duplicates()) > 1]
        if conflicting:
            raise _err(
                config_file, f"datasets.{ds.name}.roles.id",
                f"{len(conflicting)} predicted id(s) occur more than once in dataset {ds.name!r} with different values in {', '.join(used)} (first: {', '.join(map(repr, conflicting[:5]))})",
                "ids must identify one row to join predictions to it: remove the duplicate rows",
            )
        ctx_note = f"model {mc.name}: {len(dup_in_data)} predicted id(s) occur more than once in dataset {ds.name} with the same values; the first row of each was used"
        frame = frame[~frame.index.duplicated(keep="first")]
    else:
        ctx_note = ""
    rows = frame.loc[ids]
    try:
        pos = _positive_label(pred["y_true"], dc_pos, "y_true")
    except ValueError as exc:
        raise AuditInputError(ErrorItem(file=str(path), path="y_true", message=str(exc), hint=getattr(exc, "hint", "") + f" (under datasets.{ds.name} in {config_file})")) from None
    _record_positive(ds, mc.name, pred["y_true"], pos, "y_true (predictions file)", dc_pos)
    classes = {value_key(v) for v in pred["y_true"].dropna()}
    odd = sorted({value_key(v) for v in pred["y_pred"].dropna()} - classes)
    if odd:
        raise AuditInputError(ErrorItem(file=str(path), path="y_pred", message=f"y_pred has value(s) {', '.join(map(repr, odd))} that y_true does not: {value_counts_text(pred['y_pred'])}", hint="y_pred must use the same two labels as y_true (map spellings with label_map)"))
    score = pred["score"].to_numpy(dtype=float) if "score" in pred.columns else (pred["y_pred"] == pos).to_numpy(dtype=float)
    feats = mc.features
    return ClassifierArtifact(
        name=mc.name, algorithm=mc.algorithm or "external (predictions only)", purpose=mc.purpose, dataset=mc.dataset, features=list(feats),
        estimator=None, ids=ids.to_numpy(), sensitive=rows[[c for c in ds.roles.protected if c in rows.columns]].reset_index(drop=True),
        metrics=evaluate_classifier(pred["y_true"].to_numpy(), score, mc.threshold, pos),
        notes=["audited from a predictions file: the model itself was not shared, so explanations (SHAP, reason codes) cannot be computed", *([ctx_note] if ctx_note else [])],
        X_eval=rows[[c for c in feats if c in rows.columns]].reset_index(drop=True), y_true=pred["y_true"].to_numpy(), y_pred=pred["y_pred"].to_numpy(),
        y_score=score, threshold=mc.threshold, positive_label=pos, favourable_outcome="negative" if mc.adverse_outcome == "positive" else "positive",
    )
