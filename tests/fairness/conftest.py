"""Fixtures of the fairness tests."""

from __future__ import annotations

import numpy as np
import pytest

from .datasets import DATASETS


@pytest.fixture(params=sorted(DATASETS))
def dataset(request: pytest.FixtureRequest) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    y, p, g = DATASETS[request.param]
    return request.param, y, p, g
