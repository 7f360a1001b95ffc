from pathlib import Path

import pytest

EVAL_PATH = Path(__file__).resolve().parents[1] / "data" / "pii_eval" / "pii_eval.jsonl"


@pytest.fixture(scope="session")
def scanner():
    """Scanner with the installed spaCy model, loaded once per test session."""
    from audit.pii import PIIScanner

    return PIIScanner()


@pytest.fixture(scope="session")
def pattern_scanner():
    from audit.pii import PIIScanner

    return PIIScanner(model=None)


@pytest.fixture(scope="session")
def eval_records():
    from audit.pii.evaluate import load_records

    return load_records(EVAL_PATH)
