"""Fixtures of the reliability tests: rendered simulator frames and a real memory built from them.

The node helpers (NodeProcess, Harness, the `recording` fixture) belong to test/ros/conftest.py;
`reliability_support.ros_helpers()` imports that module instead of copying it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import SMALL, render_frames  # noqa: E402


@pytest.fixture(scope="session")
def small_frames():
    """16 rendered 160x120 frames of scene 3 (RGB-D + instances + labels): cheap assembler input."""
    return render_frames(16, *SMALL)


@pytest.fixture(scope="session")
def room_memory():
    """A real SpatialMemory (CPU) of 24 rendered frames of scene 3: objects, trajectory, map."""
    from reasmory_ros.memory import SpatialMemory

    memory = SpatialMemory(device="cpu")
    for frame in render_frames(24, *SMALL):
        memory.update(frame)
    assert len(memory.snapshot().objects) >= 3, "the room memory should hold a few objects"
    return memory


@pytest.fixture(scope="session")
def rules():
    """The rule-based planner with its label embedder loaded once (seconds) for every test."""
    from reasmory_ros.planning.rules import RuleBasedPlanner

    planner = RuleBasedPlanner()
    planner.embedder  # noqa: B018 - load now, not inside a timed call
    return planner
