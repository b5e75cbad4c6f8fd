"""Fixtures of the DSL tests; the room's geometry lives in known_room.py (importable by tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from known_room import build_snapshot  # noqa: E402


@pytest.fixture(scope="session")
def snapshot():
    """The known living room as a MemorySnapshot (frozen, so one instance serves every test)."""
    return build_snapshot()
