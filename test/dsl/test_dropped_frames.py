"""Frame numbers follow the stream, not integration: frames dropped on the way keep their numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reasmory_ros.dsl import DslValidationError, run
from reasmory_ros.memory.snapshot import Trajectory


@pytest.fixture
def gappy(snapshot):
    """The known room as if only every third frame had been integrated (the rest dropped)."""
    keep = np.arange(0, 100, 3)
    t = snapshot.trajectory
    trajectory = Trajectory(t.frame_indices[keep], t.timestamps[keep], t.poses[keep])
    return dataclasses.replace(snapshot, trajectory=trajectory, frame_count=len(keep))


def test_frames_beyond_the_integrated_count_are_valid_up_to_the_last_stream_frame(snapshot, gappy):
    assert gappy.frame_count == 34 and gappy.stream_frames == 100
    program = "answer(displacement(camera(frame=10), camera(frame=100)))"
    # Frame 10 (index 9) was integrated; frame 100 (index 99) is the last one kept.
    expected = np.linalg.norm(snapshot.trajectory.poses[99][:3, 3] - snapshot.trajectory.poses[9][:3, 3])
    assert run(program, gappy).value == pytest.approx(expected, abs=1e-6)


def test_a_dropped_frame_resolves_to_the_nearest_integrated_one(snapshot, gappy):
    answer = run("answer(position(camera(frame=50)))", gappy)  # index 49 dropped; 48 kept
    assert answer.value == pytest.approx(snapshot.trajectory.poses[48][:3, 3].tolist(), abs=1e-6)


def test_frames_after_the_last_stream_frame_are_rejected_before_running(gappy):
    with pytest.raises(DslValidationError, match="frame 101 is beyond the last frame") as err:
        run("answer(position(camera(frame=101)))", gappy)
    assert "1 to 100" in err.value.hint
