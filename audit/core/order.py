"""Run order of checks from what they declare: a check runs after the checks providing what it requires.

``CheckMeta.provides`` and ``CheckMeta.requires`` name fields of
:class:`audit.core.context.Facts`. The order is a topological sort with the check id as
tie-break, so it is deterministic and independent of registration order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Protocol

UNKNOWN_FACT = "check {check_id!r} {verb} unknown fact(s) {names}; known facts: {known}"
NO_PROVIDER = "check {check_id!r} requires {fact!r}, which no registered check provides"
CYCLE = "checks depend on each other in a cycle: {cycle}"


class _Meta(Protocol):
    id: str
    provides: tuple[str, ...]
    requires: tuple[str, ...]


class OrderError(ValueError):
    """A dependency between checks that cannot be satisfied (a cycle or a fact nobody provides)."""


def providers(metas: Iterable[_Meta]) -> dict[str, list[str]]:
    """Fact name -> ids of the checks providing it."""
    out: dict[str, list[str]] = {}
    for m in metas:
        for fact in m.provides:
            out.setdefault(fact, []).append(m.id)
    return out


def check_facts(meta: _Meta, known: Iterable[str]) -> None:
    """Raise when a check names a fact the context does not have (a typo, or a missing field)."""
    known = frozenset(known)
    for verb, names in (("provides", meta.provides), ("requires", meta.requires)):
        bad = sorted(set(names) - known)
        if bad:
            raise OrderError(UNKNOWN_FACT.format(check_id=meta.id, verb=verb, names=", ".join(bad), known=", ".join(sorted(known))))


def validate(metas: Iterable[_Meta]) -> None:
    """Every required fact has a provider and the dependencies have no cycle."""
    metas = list(metas)
    prov = providers(metas)
    for m in metas:
        for fact in m.requires:
            if not prov.get(fact):
                raise OrderError(NO_PROVIDER.format(check_id=m.id, fact=fact))
    run_order(metas)


def run_order(metas: Iterable[_Meta]) -> list[str]:
    """Check ids so that every provider of a fact comes before the checks requiring it."""
    by_id: Mapping[str, _Meta] = {m.id: m for m in metas}
    prov = providers(by_id.values())
    after: dict[str, set[str]] = {cid: set() for cid in by_id}  # check -> checks it must follow
    for m in by_id.values():
        for fact in m.requires:
            after[m.id].update(p for p in prov.get(fact, ()) if p != m.id)
    waiting = {cid: len(deps) for cid, deps in after.items()}
    followers: dict[str, list[str]] = {cid: [] for cid in by_id}
    for cid, deps in after.items():
        for d in deps:
            followers[d].append(cid)
    ready = [cid for cid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        cid = heapq.heappop(ready)
        out.append(cid)
        for f in followers[cid]:
            waiting[f] -= 1
            if waiting[f] == 0:
                heapq.heappush(ready, f)
    if len(out) < len(by_id):
        raise OrderError(CYCLE.format(cycle=" -> ".join(_cycle(after, set(by_id) - set(out)))))
    return out


def _cycle(after: Mapping[str, set[str]], stuck: set[str]) -> list[str]:
    """One cycle among the checks left unordered, for the error message."""
    start = min(stuck)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min(d for d in after[node] if d in stuck)
        if node in seen:
            return [*path[seen[node]:], node]
        seen[node] = len(path)
        path.append(node)
