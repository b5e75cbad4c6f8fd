"""A keyframe's intrinsics describe the pixels it actually holds: each downsampled pixel's ray is the
ray of the source pixel it was copied from, so depth back-projected from a keyframe lands where the
full frame put it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.memory import Frame
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.keyframes import KeyframeStore


@pytest.mark.parametrize("width, height", [(320, 240), (640, 480), (301, 203)], ids=["2:1", "4:1", "uneven"])
def test_keyframe_pixels_keep_the_rays_of_their_source_pixels(width, height):
    config = MemoryConfig()
    store = KeyframeStore(config, torch.device("cpu"))
    K = np.array([[0.9 * width, 0.0, width / 2 - 3.0], [0.0, 0.9 * width, height / 2 + 2.0], [0.0, 0.0, 1.0]])
    rows, cols = np.mgrid[0:height, 0:width]
    depth = (1.0 + 0.001 * cols + 0.0005 * rows).astype(np.float32)  # tells every source pixel apart
    frame = Frame(rgb=np.zeros((height, width, 3), np.uint8), depth=depth, K=K, T_world_camera=np.eye(4),
                  timestamp=0.0, index=0)
    store.store(0, frame, torch.eye(4, dtype=torch.float64), torch.zeros(0, dtype=torch.int64),
                torch.zeros(0, dtype=torch.int64))
    Kk, stored = store.intrinsics[0].numpy(), store.depth[0].numpy()
    h, w = stored.shape
    # the source pixel of each keyframe pixel, recovered from the depth it carries
    src_rows = np.floor((np.arange(h) + 0.5) * height / h)
    src_cols = np.floor((np.arange(w) + 0.5) * width / w)
    assert np.allclose(stored, depth[src_rows.astype(int)][:, src_cols.astype(int)])
    ray_keyframe = (np.arange(w) - Kk[0, 2]) / Kk[0, 0]
    ray_source = (src_cols - K[0, 2]) / K[0, 0]
    column_error = np.abs(ray_keyframe - ray_source) * K[0, 0]  # in source pixels
    ray_keyframe = (np.arange(h) - Kk[1, 2]) / Kk[1, 1]
    ray_source = (src_rows - K[1, 2]) / K[1, 1]
    row_error = np.abs(ray_keyframe - ray_source) * K[1, 1]
    if width % config.keyframe_width == 0:  # an integer reduction samples a regular grid: exact
        assert column_error.max() < 1e-9 and row_error.max() < 1e-9
    else:  # an uneven one is regular to within the rounding of floor(): half a pixel, a quarter on average
        assert column_error.max() < 0.51 and row_error.max() < 0.51
        assert column_error.mean() < 0.3 and row_error.mean() < 0.3
