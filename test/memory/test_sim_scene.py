"""The memory on the project's simulator (another scene generator than conftest's room)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.sim import camera_trajectory, generate_scene, render_sequence

WELL_SEEN_FRAMES = 15
WELL_SEEN_PIXELS = 300  # at 320x240
NEAR = 0.3  # m, centre distance in the floor plane


@pytest.mark.parametrize("seed", [1])
def test_every_well_seen_object_once_and_no_phantoms(seed):
    scene = generate_scene(seed)
    camera = camera_trajectory(scene, n_frames=90, seed=0)
    memory = SpatialMemory(MemoryConfig(pixel_stride=2))
    frames_seen = Counter()
    for rendered in render_sequence(scene, camera, width=320, height=240, seed=0):
        memory.update(rendered.frame)
        frames_seen.update(oid for oid, n in rendered.pixel_counts.items() if n >= WELL_SEEN_PIXELS)
    found = memory.snapshot().objects

    def near(a, b):
        return np.linalg.norm(a.center[:2] - b.center[:2]) < NEAR

    for truth in scene.objects:
        if frames_seen[truth.id] >= WELL_SEEN_FRAMES:
            matches = [o for o in found if o.label == truth.label and near(o, truth)]
            assert len(matches) == 1, (truth.label, truth.center, len(matches))
    for obj in found:
        assert any(t.label == obj.label and near(obj, t) for t in scene.objects), (obj.label, obj.center)
