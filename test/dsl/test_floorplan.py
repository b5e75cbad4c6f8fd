"""Floor and route grids: their fast forms equal the plain definitions (disk morphology, sight
lines); the room's measures find wall surfaces inside the bands that depth noise makes of them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from reasmory_ros.dsl.floorplan import (
    FloorGrid,
    _closed,
    _grown,
    build_floor_grid,
    floor_rectangle,
    footprint_area,
    hull_area,
)
from reasmory_ros.dsl.navigation import NavGrid, _visible_from, build_nav_grid, plan
from reasmory_ros.memory.snapshot import SceneMap


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
    floor = FloorGrid(np.array([-1.0, 2.0]), 0.1, 0.0, 2.5, np.ones_like(free), free, np.zeros(free.shape, int))
    grid = build_nav_grid(floor)
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = grid.centres[rng.integers(len(grid.centres))]
        targets = grid.centres[rng.integers(len(grid.centres), size=25)]
        seen = _visible_from(grid, a, targets)
        assert seen.tolist() == [_sees(grid, a, b) for b in targets]
    path = plan(grid, np.array([0.0, 2.5]), np.array([0.0, 4.5]))
    assert len(path) >= 3 and all(_sees(grid, p, q) for p, q in zip(path[1:-2], path[2:-1]))


VOXEL = 0.05
ROOM = (6.0, 5.0)  # m, walls' inner surfaces at x = 0 and 6, y = 0 and 5


def _noisy_room(spread: dict[str, float], seed: int = 0) -> SceneMap:
    """Voxel centres (on a lattice through the walls' surfaces) of a 6 x 5 m room, walls 2.6 m
    high, as a map of a noisy depth camera keeps them: each wall a band of voxels whose share of
    occupied heights falls off as a Gaussian of the distance from its surface, `spread` (m,
    standard deviation) per wall; a floor; a cabinet against the west wall (its front 0.4 m
    inside)."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(-10, 11) * VOXEL
    heights = np.arange(3, 52) * VOXEL
    points = []
    for wall, sigma in spread.items():
        axis, at = {"west": (0, 0.0), "east": (0, ROOM[0]), "south": (1, 0.0), "north": (1, ROOM[1])}[wall]
        run = np.arange(0, round(ROOM[1 - axis] / VOXEL) + 1) * VOXEL
        for offset in offsets:
            share = np.exp(-0.5 * (offset / sigma) ** 2)
            for along in run:
                z = heights[rng.random(len(heights)) < share]
                xy = np.zeros((len(z), 2))
                xy[:, axis], xy[:, 1 - axis] = at + offset, along
                points.append(np.column_stack([xy, z]))
    xs, ys = np.meshgrid(np.arange(1, round(ROOM[0] / VOXEL)) * VOXEL, np.arange(1, round(ROOM[1] / VOXEL)) * VOXEL)
    points.append(np.column_stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)]))
    cabinet = np.stack(np.meshgrid(np.arange(1, 9) * VOXEL, np.arange(40, 61) * VOXEL, heights[heights < 1.2]), -1)
    points.append(cabinet.reshape(-1, 3))
    cloud = np.vstack(points).astype(np.float32)
    return SceneMap(cloud, np.full((len(cloud), 3), 128, np.uint8), VOXEL)


def test_the_room_is_measured_at_its_wall_surfaces_not_at_the_edge_of_their_noise():
    """Walls seen from far and from near (bands of 2 to 10 cm standard deviation): the footprint's
    outline lies at the bands' outer edges (about 3 sigma out), the room's measures at the walls."""
    room = _noisy_room({"west": 0.10, "east": 0.02, "south": 0.06, "north": 0.10})
    grid = build_floor_grid(room)
    outer = grid.centre(*np.nonzero(grid.footprint))
    assert np.ptp(outer[:, 0]) - ROOM[0] > 0.3, "the bands reach far out (else this test shows nothing)"

    assert hull_area(grid) == pytest.approx(ROOM[0] * ROOM[1], rel=0.015)
    assert footprint_area(grid) == pytest.approx(ROOM[0] * ROOM[1], rel=0.03)
    # The hull's edges run between stray voxels of the bands, a little askew: a few cm.
    length, width = floor_rectangle(grid)
    assert length == pytest.approx(ROOM[0], abs=0.06) and width == pytest.approx(ROOM[1], abs=0.06)


def test_exact_walls_are_not_moved():
    """Noise-free walls (one voxel layer): nothing to correct, the measures are the outline's."""
    room = _noisy_room({"west": 0.001, "east": 0.001, "south": 0.001, "north": 0.001})
    grid = build_floor_grid(room)
    assert hull_area(grid) == pytest.approx(ROOM[0] * ROOM[1], rel=1e-4)
    assert floor_rectangle(grid) == pytest.approx(ROOM, abs=1e-4)


def test_furniture_along_walls_the_camera_never_saw_does_not_move_the_outline():
    """No wall voxels at all: the floor ends the map. A sofa's back (0.8 m of voxels per column)
    one voxel inside the south edge, and the cabinet against the west edge, are no walls."""
    bare = _noisy_room({})
    x = np.arange(1, round(ROOM[0] / VOXEL)) * VOXEL
    z = np.arange(3, 19) * VOXEL
    back = np.stack(np.meshgrid(x, [2 * VOXEL], z), -1).reshape(-1, 3).astype(np.float32)
    furnished = SceneMap(np.vstack([bare.points, back]), np.vstack([bare.colors, bare.colors[: len(back)]]), VOXEL)
    floor = (ROOM[0] - 2 * VOXEL) * (ROOM[1] - 2 * VOXEL)  # the floor's outer cell centres
    assert hull_area(build_floor_grid(furnished)) == pytest.approx(floor, rel=1e-6)
    assert footprint_area(build_floor_grid(furnished)) == pytest.approx(floor, rel=0.01)
