"""Where the row-wise work of an audit runs: in this process, or as Dask tasks on a cluster.

The work that grows with the data is cut into partitions and mapped over them:

* the free-text PII scan (distinct texts, partitioned; each worker builds one
  PII scanner, spaCy model and Presidio engine included, and keeps it for every
  later task: the scanner is built once per worker, never shipped per task);
* count tables of the classifier fairness checks (protected attributes,
  merited and received outcome) and of the missing-value check, merged exactly
  (:mod:`audit.fairness.counts`);
* model scoring (``predict_proba`` per partition; the fitted model is
  broadcast to every worker once).

The checks then read the merged results instead of the rows, so the findings
of both engines are the same: integer counts are identical, and every figure is
computed from them by the same code.

``DaskEngine(address)`` connects to a running scheduler (``tcp://host:8786``);
without an address it starts a local cluster of worker processes on this machine.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.core.errors import AuditInputError, ErrorItem

__all__ = [
    "DaskEngine",
    "Engine",
    "LocalEngine",
    "make_engine",
    "prepare_context",
    "score_partitions",
]

ENGINES = ("local", "dask")
DEFAULT_PARTITION_ROWS = 20_000
CONFUSION_KEY = "confusion_tables"
MISSINGNESS_KEY = "missingness_tables"
PII_CHECKS = ("pii.free_text", "nlp.pii_in_training_text")
FAIRNESS_CHECKS = (
    "fairness.selection_rate_impact_ratio",
    "fairness.demographic_parity_difference",
    "fairness.equalized_odds_difference",
    "fairness.equal_opportunity_difference",
)


class Engine:
    """Maps ``fn(part, shared=...)`` over partitions; ``shared`` is sent to each worker once."""

    name = "local"

    @property
    def workers(self) -> int:
        return 1

    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *, shared: Any = None) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "workers": self.workers}

    def close(self) -> None:
        """Release the cluster (a no-op locally)."""


class LocalEngine(Engine):
    """Runs every partition in this process, in order."""

    name = "local"

    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *, shared: Any = None) -> list[Any]:
        return [fn(p, shared=shared) for p in parts]


class DaskEngine(Engine):
    """Runs partitions as tasks of a ``dask.distributed`` cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://10.0.0.5:8786``). Without it a local cluster
        of ``n_workers`` single-threaded worker processes is started.
    """

    name = "dask"

    def __init__(self, address: str | None = None, *, n_workers: int | None = None, timeout: float = 30.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise AuditInputError(
                ErrorItem(file="<command line>", path="--engine", message="the dask engine needs dask.distributed", hint="pip install 'dask[distributed]'")
            ) from exc
        self.address = address
        self._cluster = None
        try:
            if address:
                self.client = Client(address, timeout=timeout)
            else:
                n = n_workers or max(1, min(2, os.cpu_count() or 1))
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
                self.client = Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise AuditInputError(
                ErrorItem(
                    file="<command line>",
                    path="--scheduler",
                    message=f"cannot reach the Dask scheduler at {address!r}: {exc}",
                    hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`, or leave --scheduler out for a local cluster",
                )
            ) from None

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {})) if hasattr(self, "client") else 0

    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *, shared: Any = None) -> list[Any]:
        if not parts:
            return []
        # one copy per worker, whatever the number of tasks (a list, so a dict is not split into its items)
        shared_ref = self.client.scatter([shared], broadcast=True, hash=False)[0] if shared is not None else None
        futures = self.client.map(fn, list(parts), shared=shared_ref, pure=False)
        try:
            return self.client.gather(futures)
        finally:
            for f in futures:
                f.release()

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "workers": self.workers, "scheduler": self.address or "local cluster"}

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(kind: str | None, scheduler: str | None = None, *, n_workers: int | None = None) -> Engine:
    """``"local"`` (default) or ``"dask"``; a scheduler address implies ``"dask"``."""
    kind = (kind or ("dask" if scheduler else "local")).lower()
    if kind not in ENGINES:
        raise AuditInputError(ErrorItem(file="<command line>", path="--engine", message=f"unknown engine {kind!r}", hint="choose local or dask"))
    if kind == "local":
        if scheduler:
            raise AuditInputError(ErrorItem(file="<command line>", path="--scheduler", message="a scheduler address needs the dask engine", hint="add --engine dask or drop --scheduler"))
        return LocalEngine()
    return DaskEngine(scheduler, n_workers=n_workers)


def partitions(n: int, size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` bounds of consecutive partitions of at most ``size`` rows."""
    size = max(1, int(size))
    return [(a, min(n, a + size)) for a in range(0, n, size)]


# ---------------------------------------------------------------------------
# worker-side state: one PII scanner per worker process

_SCANNERS: dict[str, Any] = {}
_SCANNER_LOCK = threading.Lock()


def _worker_scanner(options: dict[str, Any]) -> Any:
    key = json.dumps(options, sort_keys=True, default=str)
    with _SCANNER_LOCK:
        scanner = _SCANNERS.get(key)
        if scanner is None:
            from audit.pii import PIIScanner

            scanner = PIIScanner(**options)
            _SCANNERS[key] = scanner
        return scanner


def _scan_partition(items: list[tuple[str, str]], shared: dict[str, Any]) -> list[tuple[tuple[str, int, int, float], ...]]:
    """Hits of each (language, text), in input order, by this worker's scanner (``shared``: the PII options)."""
    return scan_items(_worker_scanner(shared), items)


def scan_items(scanner: Any, items: list[tuple[str, str]]) -> list[tuple[tuple[str, int, int, float], ...]]:
    """Hits of each (language, text), in input order."""
    out: list[tuple[tuple[str, int, int, float], ...]] = [() for _ in items]
    by_lang: dict[str, list[int]] = {}
    for i, (lang, _text) in enumerate(items):
        by_lang.setdefault(lang, []).append(i)
    for lang, idx in by_lang.items():
        found: dict[int, list[tuple[str, int, int, float]]] = {}
        for h in scanner.scan_texts([items[i][1] for i in idx], language=lang, ids=range(len(idx))):
            found.setdefault(int(h.row_id), []).append((h.entity_type, int(h.start), int(h.end), float(h.score)))
        for j, i in enumerate(idx):
            out[i] = tuple(found.get(j, ()))
    return out


def _classifier_cells(part: pd.DataFrame, shared: dict[str, Any]) -> Any:
    from audit.fairness.counts import classifier_cells

    return classifier_cells(part, attributes=shared["attributes"], y_pred="received", y_true="merits" if "merits" in part.columns else None, bands=shared["bands"], pos_label=True)


def _missingness_cells(part: pd.DataFrame, shared: dict[str, Any]) -> Any:
    from audit.checks.data_quality.missingness import null_cells

    return null_cells(part, shared["attribute"], shared["bands"])


def _score_partition(part: pd.DataFrame, shared: Any) -> np.ndarray:
    return np.asarray(shared.predict_proba(part))


def score_partitions(engine: Engine, model: Any, X: pd.DataFrame, *, partition_rows: int = DEFAULT_PARTITION_ROWS) -> np.ndarray:
    """``model.predict_proba(X)`` computed per partition (the model is sent to each worker once)."""
    parts = [X.iloc[a:b] for a, b in partitions(len(X), partition_rows)]
    results = engine.map(_score_partition, parts, shared=model)
    return np.concatenate(results, axis=0) if results else np.zeros((0, 2))


# ---------------------------------------------------------------------------
# preparing an audit context


def prepare_context(
    ctx: Any,
    engine: Engine,
    *,
    check_ids: Iterable[str],
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    progress: Any = None,
) -> dict[str, Any]:
    """Run the partitioned work of the checks in ``check_ids`` on ``engine``; return timings and rates.

    The PII scan runs on either engine (so the report states its throughput);
    count tables are built only on the Dask engine, where they replace the
    checks' own passes over the rows.
    """
    ids = set(check_ids)
    stats: dict[str, Any] = {**engine.describe(), "partition_rows": int(partition_rows)}
    if ids & set(PII_CHECKS):
        stats["pii_scan"] = prescan_texts(ctx, engine, partition_rows=max(1, partition_rows // 10), progress=progress, include_models="nlp.pii_in_training_text" in ids, include_columns="pii.free_text" in ids)
    if engine.name != "local":
        if ids & set(FAIRNESS_CHECKS):
            t0 = time.perf_counter()
            n = confusion_tables(ctx, engine, partition_rows=partition_rows)
            stats["fairness_counts"] = {"tables": n, "seconds": round(time.perf_counter() - t0, 3)}
        if "dq.missingness" in ids:
            t0 = time.perf_counter()
            n = missingness_tables(ctx, engine, partition_rows=partition_rows)
            stats["missingness_counts"] = {"tables": n, "seconds": round(time.perf_counter() - t0, 3)}
    ctx.report.engine = stats
    return stats


def _text_jobs(ctx: Any, scanner: Any, *, include_columns: bool, include_models: bool) -> list[tuple[list[Any], list[str]]]:
    from audit.checks.privacy.pii import row_languages
    from audit.core.types import SubjectKind

    jobs = []
    if include_columns:
        for subject in ctx.subjects(SubjectKind.TEXT_COLUMN):
            ds = subject.dataset
            if ds is None or subject.column not in ds.frame.columns:
                continue
            texts = ds.frame[subject.column].tolist()
            lang_col = ds.language_column if ds.language_column in ds.frame.columns else None
            jobs.append((texts, row_languages(ds.frame[lang_col].tolist() if lang_col else None, len(texts), scanner.languages)))
    if include_models:
        for subject in ctx.subjects(SubjectKind.TEXT_CLASSIFIER):
            texts = getattr(subject.obj, "texts", None)
            if texts is None or len(texts) == 0:
                continue
            texts = list(texts)
            lang = getattr(subject.obj, "language", None)
            lang_values = list(lang) if lang is not None and len(lang) == len(texts) else None
            jobs.append((texts, row_languages(lang_values, len(texts), scanner.languages)))
    return jobs


def prescan_texts(
    ctx: Any,
    engine: Engine,
    *,
    partition_rows: int = 2000,
    progress: Any = None,
    include_columns: bool = True,
    include_models: bool = True,
) -> dict[str, Any]:
    """Scan every distinct (language, text) the PII checks will ask for and fill their cache."""
    from audit.checks.data_quality.validity import is_missing
    from audit.checks.privacy.pii import TEXT_CACHE_KEY, shared_scanner

    scanner = shared_scanner(ctx)
    cache: dict[tuple[str, str], tuple[Any, ...]] = ctx.cached(TEXT_CACHE_KEY, dict)
    rows = 0
    todo: dict[tuple[str, str], None] = {}
    for texts, langs in _text_jobs(ctx, scanner, include_columns=include_columns, include_models=include_models):
        for t, lang in zip(texts, langs, strict=True):
            text = "" if is_missing(t) else str(t)
            rows += 1
            if text.strip() and (lang, text) not in cache:
                todo[(lang, text)] = None
    items = list(todo)
    options = dict(ctx.pii_options.scanner_kwargs())
    t0 = time.perf_counter()
    if items:
        parts = [items[a:b] for a, b in partitions(len(items), partition_rows)]
        done = 0
        results: list[Any] = []
        if progress is not None:
            progress.start("PII scan of free text", total=len(items), unit="texts")
        if engine.name == "local":
            for p in parts:  # the audit's own scanner, already loaded
                results.append(scan_items(scanner, p))
                done += len(p)
                if progress is not None:
                    progress.advance(len(p))
        else:
            results = engine.map(_scan_partition, parts, shared=options)
            if progress is not None:
                progress.advance(len(items))
        if progress is not None:
            progress.finish()
        for part, hits in zip(parts, results, strict=True):
            for key, h in zip(part, hits, strict=True):
                cache[key] = tuple(h)
    seconds = time.perf_counter() - t0
    return {
        "rows": rows,
        "distinct_texts": len(items),
        "seconds": round(seconds, 3),
        "texts_per_s": round(len(items) / seconds, 1) if seconds > 0 and items else None,
        "rows_per_s": round(rows / seconds, 1) if seconds > 0 and items else None,
    }


def _frame_parts(frame: pd.DataFrame, partition_rows: int) -> list[pd.DataFrame]:
    return [frame.iloc[a:b] for a, b in partitions(len(frame), partition_rows)]


def confusion_tables(ctx: Any, engine: Engine, *, partition_rows: int = DEFAULT_PARTITION_ROWS) -> int:
    """Per-attribute confusion counts of every classifier, counted per partition and merged."""
    from audit.checks.fairness._common import bands_for, groupings
    from audit.core.types import SubjectKind
    from audit.fairness.counts import merge_tables

    out: dict[Any, Any] = ctx.cached(CONFUSION_KEY, dict)
    made = 0
    for subject in ctx.subjects(SubjectKind.CLASSIFIER):
        art = subject.obj
        sensitive = getattr(art, "sensitive", None)
        if not hasattr(art, "favourable_mask") or sensitive is None or sensitive.shape[1] == 0:
            continue
        frame = sensitive.reset_index(drop=True)
        received = np.asarray(art.favourable_mask(), dtype=bool)
        positive = np.asarray(art.y_true) == art.positive_label
        merits = positive if art.favourable_outcome == "positive" else ~positive
        groups, _skipped, _ = groupings(frame, art, ctx, None)
        bands = bands_for(art, ctx)
        for g in groups:
            attrs = list(g.groups.attributes)
            use_bands = {a: bands[a] for a in attrs if a in bands and pd.api.types.is_numeric_dtype(frame[a].dtype)}
            data = frame[attrs].copy()
            data["received"] = received
            data["merits"] = merits
            for with_truth in (False, True):
                cols = [*attrs, "received", *(["merits"] if with_truth else [])]
                tables = engine.map(_classifier_cells, _frame_parts(data[cols], partition_rows), shared={"attributes": attrs, "bands": use_bands})
                table = merge_tables(tables)
                conf = table.confusion(attrs, bands=use_bands, y_true="y_true" if with_truth else None, y_pred="y_pred", pos_label=1)
                out[(art.name, g.attribute, with_truth)] = _renamed(conf, g)
                made += 1
    return made


def _renamed(conf: Any, g: Any) -> Any:
    """The table's groups under the check's labels; the order and sizes must agree."""
    from audit.fairness import GroupConfusion

    if len(conf.groups) != g.groups.n_groups or not np.array_equal(conf.n, g.groups.sizes):
        raise RuntimeError(f"merged counts for {g.attribute} do not match the rows' groups ({conf.groups} vs {g.groups.names})")
    return GroupConfusion(groups=g.groups.names, counts=conf.counts)


def confusion_for(ctx: Any, art: Any, g: Any, with_truth: bool) -> Any:
    """Merged confusion counts prepared by the Dask engine for this model and grouping, or None."""
    return ctx.memo.get(CONFUSION_KEY, {}).get((getattr(art, "name", None), g.attribute, with_truth))


def missingness_tables(ctx: Any, engine: Engine, *, partition_rows: int = DEFAULT_PARTITION_ROWS) -> int:
    """Missing cells per column, overall and per protected group, of every dataset (see dq.missingness)."""
    from audit.fairness.counts import merge_tables

    out: dict[Any, Any] = ctx.cached(MISSINGNESS_KEY, dict)
    made = 0
    for ds in ctx.datasets.values():
        frame = ds.frame
        for attr in [None, *[a for a in ds.roles.protected if a in frame.columns]]:
            shared = {"attribute": attr, "bands": ds.bands.get(attr) if attr is not None else None}
            out[(ds.name, attr)] = merge_tables(engine.map(_missingness_cells, _frame_parts(frame, partition_rows), shared=shared))
            made += 1
    return made


def pii_throughput_text(stats: dict[str, Any]) -> str:
    scan = stats.get("pii_scan") or {}
    if not scan.get("distinct_texts"):
        return ""
    rate = scan.get("rows_per_s")
    return f"PII scan: {scan['rows']:,} rows ({scan['distinct_texts']:,} distinct texts) in {scan['seconds']:.1f} s, {rate:,.0f} rows/s on the {stats['engine']} engine ({stats['workers']} worker(s))" if rate else ""

