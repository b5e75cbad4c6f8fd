"""Floor and route grids: their fast forms equal the plain definitions (disk morphology, sight lines)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from reasmory_ros.dsl.floorplan import FloorGrid, _closed, _grown
from reasmory_ros.dsl.navigation import NavGrid, _visible_from, build_nav_grid, plan


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


def _sees(grid: NavGrid, a: np.ndarray, b: np.ndarray) -> bool:
    """One segment at a time: samples every half cell, end points included, all on free cells."""
    steps = max(2, int(np.ceil(np.linalg.norm(b - a) / (grid.cell / 2))) + 1)
    ij = np.round((a + np.linspace(0.0, 1.0, steps)[:, None] * (b - a) - grid.floor.origin) / grid.cell).astype(int)
    inside = ((ij >= 0) & (ij < grid.floor.free.shape)).all(axis=1)
    return bool(inside.all() and grid.floor.free[ij[:, 0], ij[:, 1]].all())


def test_batched_sight_lines_equal_one_segment_at_a_time():
    free = np.ones((40, 30), dtype=bool)
    free[20, 5:] = False  # a wall with a gap at one end
    free[5:12, 10:13] = False
    floor = FloorGrid(np.array([-1.0, 2.0]), 0.1, 0.0, 2.5, np.ones_like(free), free)
    grid = build_nav_grid(floor)
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = grid.centres[rng.integers(len(grid.centres))]
        targets = grid.centres[rng.integers(len(grid.centres), size=25)]
        seen = _visible_from(grid, a, targets)
        assert seen.tolist() == [_sees(grid, a, b) for b in targets]
    path = plan(grid, np.array([0.0, 2.5]), np.array([0.0, 4.5]))
    assert len(path) >= 3 and all(_sees(grid, p, q) for p, q in zip(path[1:-2], path[2:-1]))
