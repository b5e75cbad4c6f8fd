"""The floor plan seen by the map: footprint, floor height, free space, room area and size.

Everything is a 2D grid over the map voxels' xy. The footprint (every column holding a voxel,
small stray clusters removed, gaps closed and enclosed holes filled) measures the room; the free
space (floor observed, nothing between knee and head height, obstacles grown by the robot radius)
is where routes may go.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from ..memory.snapshot import SceneMap
from .errors import OperationError

MIN_CELL = 0.05
MAX_CELLS = 250_000
FLOOR_BAND = 0.10
OBSTACLE_TOP = 1.5
ROBOT_RADIUS = 0.2
OUTLINE_GAP = 0.5
"""Gaps in the outline up to twice this (m) are bridged: an open door, unobserved wall strips."""
FLOOR_GAP = 0.15
"""Floor observations closer than twice this (m) are joined: sparse depth samples the floor in
speckles, and a robot may cross what lies between them."""
STRAY_FRACTION = 0.02
"""Clusters smaller than this share of the footprint are treated as outliers (seen through
windows, depth noise)."""


@dataclass(frozen=True)
class FloorGrid:
    """Boolean grids indexed [ix, iy]; cell (0, 0) is centred at `origin`."""

    origin: np.ndarray
    cell: float
    floor_z: float
    ceiling_z: float
    footprint: np.ndarray
    free: np.ndarray

    def centre(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        return np.column_stack([ix, iy]) * self.cell + self.origin

    def index(self, xy: np.ndarray) -> tuple[int, int]:
        """The grid cell of a floor position, clamped into the grid."""
        i = np.round((np.asarray(xy[:2], dtype=np.float64) - self.origin) / self.cell).astype(int)
        return (int(np.clip(i[0], 0, self.free.shape[0] - 1)),
                int(np.clip(i[1], 0, self.free.shape[1] - 1)))


def _floor_height(z: np.ndarray, low: float, cell: float) -> float:
    """Height of the densest thin layer among the lowest voxels (`low`: the 1st percentile of z):
    the floor, not the odd outlier."""
    near = z[z <= low + 0.5]
    bins = np.arange(low - cell, low + 0.5 + cell, cell)
    counts, edges = np.histogram(near, bins=bins)
    best = int(np.argmax(counts))
    return float(near[(near >= edges[best]) & (near <= edges[best + 1])].mean())


def _grown(mask: np.ndarray, radius_cells: int) -> np.ndarray:
    """Dilation by the disk i² + j² <= r², as a threshold on the distance to the nearest set cell:
    linear in the grid size, where a disk structure costs r² per cell (distances are square roots
    of integers, so the comparison with r is exact)."""
    if not mask.any():
        return mask.copy()
    return ndimage.distance_transform_edt(~mask) <= radius_cells


def _closed(mask: np.ndarray, radius_m: float, cell: float) -> np.ndarray:
    """Morphological closing with a disk, padded so that gaps at the grid's edge close too; the
    erosion keeps the cells farther than r from every cell the dilation left clear."""
    r = int(np.ceil(radius_m / cell))
    closed = ndimage.distance_transform_edt(_grown(np.pad(mask, r), r))[r:-r, r:-r] > r
    return closed | mask


def _without_strays(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= STRAY_FRACTION * sizes.sum()) + 1
    return np.isin(labels, keep)


def build_floor_grid(scene_map: SceneMap) -> FloorGrid:
    """Grid the map; raise OperationError when the map is empty.

    Built on every new snapshot that a room or route question reads, so the points are handled as
    three contiguous coordinate rows (reductions over an (N, 3) array's short axis run per point).
    """
    x, y, z = np.asarray(scene_map.points, dtype=np.float64).reshape(-1, 3).T.copy()
    finite = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
    if not finite.all():
        x, y, z = x[finite], y[finite], z[finite]
    if len(z) < 10:
        raise OperationError("the map has too few points to measure the room or plan a route",
                             "let the robot observe more of the scene first")
    (low_x, high_x), (low_y, high_y) = np.percentile(x, [0.5, 99.5]), np.percentile(y, [0.5, 99.5])
    inside = (x >= low_x - 1.0) & (x <= high_x + 1.0) & (y >= low_y - 1.0) & (y <= high_y + 1.0)
    x, y, z = x[inside], y[inside], z[inside]
    cell = max(float(scene_map.voxel_size), MIN_CELL)
    lowest = np.array([x.min(), y.min()])
    span = np.array([x.max(), y.max()]) - lowest
    while np.prod(span / cell + 3) > MAX_CELLS:
        cell *= 2.0
    origin = lowest - cell
    shape = tuple((np.ceil(span / cell) + 3).astype(int))
    flat = (np.round((x - origin[0]) / cell).astype(np.intp) * shape[1]
            + np.round((y - origin[1]) / cell).astype(np.intp))
    low_z, ceiling_z = np.percentile(z, [1.0, 99.5])
    floor_z = _floor_height(z, low_z, cell)

    def columns(selected: np.ndarray | None = None) -> np.ndarray:
        grid = np.zeros(shape, dtype=bool)
        grid.ravel()[flat if selected is None else flat[selected]] = True
        return grid

    occupied = _without_strays(columns())
    footprint = ndimage.binary_fill_holes(_closed(occupied, OUTLINE_GAP, cell))
    floor = _closed(columns(np.abs(z - floor_z) <= max(FLOOR_BAND, 1.5 * cell)), FLOOR_GAP, cell)
    obstacle = columns((z > floor_z + FLOOR_BAND) & (z < floor_z + OBSTACLE_TOP))
    inflated = _grown(obstacle, int(np.ceil(ROBOT_RADIUS / cell)))
    return FloorGrid(origin, cell, floor_z, float(ceiling_z), footprint, floor & ~inflated & footprint)


def _cell_centres(mask: np.ndarray, grid: FloorGrid) -> np.ndarray:
    ix, iy = np.nonzero(mask)
    return grid.centre(ix, iy)


def footprint_area(grid: FloorGrid) -> float:
    """Area enclosed by the footprint's outer cell centres (half of each boundary cell lies
    outside the wall surface the voxels sample)."""
    mask = grid.footprint
    boundary = mask & ~ndimage.binary_erosion(mask, border_value=0)
    return float((mask.sum() - boundary.sum() / 2.0) * grid.cell ** 2)


def hull_area(grid: FloorGrid) -> float:
    """Area of the convex hull of the footprint (over-estimates rooms that are not convex)."""
    try:
        return float(ConvexHull(_cell_centres(grid.footprint, grid)).volume)
    except (QhullError, ValueError) as err:
        raise OperationError("the map's footprint is degenerate (a line or a point)") from err


def floor_rectangle(grid: FloorGrid) -> tuple[float, float]:
    """Length and width (length >= width) of the smallest rectangle around the footprint's cell
    centres; one of its sides lies along an edge of their convex hull."""
    centres = _cell_centres(grid.footprint, grid)
    try:
        hull = centres[ConvexHull(centres).vertices]
    except (QhullError, ValueError) as err:
        raise OperationError("the map's footprint is degenerate (a line or a point)") from err
    edges = np.diff(np.vstack([hull, hull[:1]]), axis=0)
    angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    extents = []
    for angle in angles:
        c, s = np.cos(angle), np.sin(angle)
        rotated = hull @ np.array([[c, -s], [s, c]])
        extents.append(rotated.max(axis=0) - rotated.min(axis=0))
    length, width = sorted(min(extents, key=np.prod), reverse=True)
    return float(length), float(width)
