"""The bounded scene map (memory/scene_map.py): one hit per voxel per frame, colours averaged over a
frame's samples and blended over frames, and the key grouping it rests on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.memory import MemoryConfig
from reasmory_ros.memory.geometry import unique_keys
from reasmory_ros.memory.scene_map import VoxelMap


@pytest.mark.parametrize("size", [0, 1, 5000])
def test_unique_keys_groups_like_torch_unique(size):
    keys = torch.randint(0, 700, (size,), generator=torch.Generator().manual_seed(size), dtype=torch.int64) << 40
    values, inverse = unique_keys(keys)
    expected_values, expected_inverse = torch.unique(keys, return_inverse=True)
    assert torch.equal(values, expected_values)
    assert torch.equal(inverse, expected_inverse)


def test_a_voxel_counts_one_hit_a_frame_and_averages_its_samples_colours():
    config = MemoryConfig(voxel_size=0.1, min_voxel_hits=2)
    scene = VoxelMap(config, torch.device("cpu"))
    inside = torch.tensor([[0.01, 0.01, 0.01], [0.08, 0.02, 0.05], [0.05, 0.09, 0.02]])
    elsewhere = torch.tensor([[1.05, 0.05, 0.05]])
    colours = torch.tensor([[0, 0, 0], [30, 60, 90], [60, 120, 180], [255, 255, 255]], dtype=torch.uint8)
    assert scene.integrate(torch.cat([inside, elsewhere]), colours, ordinal=0) == 0
    assert len(scene.export().points) == 0, "one frame is not min_voxel_hits frames"
    scene.integrate(inside[:1], torch.tensor([[90, 90, 90]], dtype=torch.uint8), ordinal=1)
    exported = scene.export()
    np.testing.assert_allclose(exported.points, [[0.05, 0.05, 0.05]], atol=1e-6)
    # Frame 0: mean of three samples (30, 60, 90); frame 1 blends in (90, 90, 90) with weight 1/2.
    assert exported.colors.tolist() == [[60, 75, 90]]
    assert np.array_equal(scene.occupied(np.array([[0.02, 0.03, 0.04], [1.02, 0.0, 0.0]]), 2).numpy(), [True, False])
