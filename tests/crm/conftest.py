"""Shared small demo fixtures: generated and trained once per test session."""

from __future__ import annotations

import pytest

from audit.crm.demo import DemoCRM, crm_demo_stack, generate_demo

SMALL_N = 2000
SEED = 7


@pytest.fixture(scope="session")
def small_demo() -> DemoCRM:
    return generate_demo(n_customers=SMALL_N, seed=SEED)


@pytest.fixture(scope="session")
def small_stack(small_demo: DemoCRM) -> dict:
    return {a.name: a for a in crm_demo_stack(small_demo, seed=0)}
