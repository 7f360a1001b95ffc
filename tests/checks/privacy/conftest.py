import pytest


@pytest.fixture(scope="session")
def scanner():
    """One scanner with the installed spaCy model for the whole session (loading it takes seconds)."""
    from audit.pii import PIIScanner

    return PIIScanner()
