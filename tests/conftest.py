"""Shared pytest fixtures."""
from pathlib import Path

import pytest

# The team's real LAS/LAZ/COPC files live beside the repository, never in it.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real LAS/LAZ/COPC files (see its PROVENANCE.md); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA
