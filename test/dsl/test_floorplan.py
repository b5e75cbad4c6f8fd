"""The floor grid's morphology: distance-transform dilation and closing equal scipy's with a disk."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from reasmory_ros.dsl.floorplan import _closed, _grown


def _disk(r: int) -> np.ndarray:
    offsets = np.arange(-r, r + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= r ** 2


@pytest.mark.parametrize("seed", range(20))
def test_distance_transform_morphology_equals_disk_structuring_element(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random(tuple(rng.integers(1, 50, 2))) < rng.uniform(0.0, 0.3)
    r = int(rng.integers(1, 12))
    assert np.array_equal(_grown(mask, r), ndimage.binary_dilation(mask, structure=_disk(r)))
    padded = ndimage.binary_closing(np.pad(mask, r), structure=_disk(r))[r:-r, r:-r]
    assert np.array_equal(_closed(mask, r * 0.05, 0.05), padded | mask)
