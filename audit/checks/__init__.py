"""Built-in checks, grouped by concern. Registration is explicit: the list below is the whole set."""

from __future__ import annotations

import importlib

BUILTIN_MODULES = (
    "audit.checks.data_quality.missingness",
    "audit.checks.data_quality.duplicates",
    "audit.checks.privacy.anonymity",
    "audit.checks.nlp.chatbot",
    "audit.checks.governance.dpia",
    "audit.checks.governance.representativeness",
    "audit.checks.fairness.proxy",
    "audit.checks.fairness.classifier",
    "audit.checks.fairness.segmentation",
    "audit.checks.fairness.recommender",
    "audit.checks.fairness.text",
    "audit.checks.explain.checks",
    "audit.checks.privacy.pii",
    "audit.checks.privacy.special",
    "audit.checks.privacy.pseudonymisation",
    "audit.checks.data_quality.validity",
    "audit.checks.data_quality.retention",
    "audit.checks.monitoring.log",
    "audit.checks.monitoring.drift",
    "audit.checks.monitoring.trend",
    "audit.checks.monitoring.performance",
)

_loaded = False


def load_builtin_checks() -> None:
    """Import the built-in check modules once; each registers its checks with a decorator.

    Then the declared dependencies are validated: a required fact nobody provides, or
    checks requiring each other in a cycle, is an error here, before any audit runs.
    """
    global _loaded
    if _loaded:
        return
    from audit.core.check import REGISTRY

    for name in BUILTIN_MODULES:
        importlib.import_module(name)
    REGISTRY.validate()
    _loaded = True
