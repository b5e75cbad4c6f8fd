"""The floor plan seen by the map: footprint, floor height, free space, room area and size.

Everything is a 2D grid over the map voxels' xy. The footprint (every column holding a voxel,
small stray clusters removed, gaps closed and enclosed holes filled) measures the room; the free
space (floor observed, nothing between knee and head height, obstacles grown by the robot radius)
is where routes may go.

Depth noise grows with distance and lies along the viewing rays, so a wall seen from across the
room is a band of voxels 10-30 cm deep centred on its surface, and the footprint's outline runs
along the band's outer edge: rooms came out 5-9 % too large. The room's measures therefore move
each edge of the outline in to the middle of the band of wall voxels behind it (`_edge_insets`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError

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
WALL_REACH = 1.2
"""Wall voxels (above the floor band) up to this far (m) inside the outline are read for the band
of a wall surface."""
WALL_BAND_CONTRAST = 3.0
"""A band is a wall only if it ends within half of WALL_REACH and its peak holds this many times
the mean voxels per bin between the band and WALL_REACH: an outline edge across a corner the
camera never saw (an L-shaped room's hull) has voxels spread evenly behind it, and stays. A band
whose peak lies two cells or more inside the outline must also hold half of its peak in the bin
outside it (noise spreads both ways): the front of a cabinet along a wall has only its top's
voxels between it and the outline."""
WALL_HEIGHT = 1.2
"""A band is a wall only if its peak holds this many metres of voxels per cell of outline on
average (the sim's walls: about 2.2 m): the back of a sofa along a wall the camera never saw is
no wall."""


@dataclass(frozen=True)
class FloorGrid:
    """Boolean grids indexed [ix, iy]; cell (0, 0) is centred at `origin`."""

    origin: np.ndarray
    cell: float
    floor_z: float
    ceiling_z: float
    footprint: np.ndarray
    free: np.ndarray
    walls: np.ndarray
    """Metres of voxels above the floor band per cell (voxels x voxel size): the wall surfaces the
    outline is moved to."""

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
    walls = np.bincount(flat[z > floor_z + FLOOR_BAND], minlength=int(np.prod(shape))).reshape(shape)
    walls = walls * float(scene_map.voxel_size)
    return FloorGrid(origin, cell, floor_z, float(ceiling_z), footprint, floor & ~inflated & footprint, walls)


def _cell_centres(mask: np.ndarray, grid: FloorGrid) -> np.ndarray:
    ix, iy = np.nonzero(mask)
    return grid.centre(ix, iy)


def _band_middle(distance: np.ndarray, height: np.ndarray, cell: float, outline: float) -> float | None:
    """Middle (m) of the densest band of wall voxels at `distance` (m) inside `outline` metres of
    outline, `height` metres of voxels each: the peak bin, refined by a parabola through it and
    its neighbours. None when no wall band stands out (see WALL_BAND_CONTRAST, WALL_HEIGHT)."""
    bins = np.clip(np.floor(distance / cell + 0.5), 0, None).astype(np.intp)
    counts = np.bincount(bins, weights=height, minlength=int(round(WALL_REACH / cell)) + 1)
    peak = int(np.argmax(counts))
    if counts[peak] < WALL_HEIGHT * outline / cell:
        return None
    low, high = peak, peak
    while low > 0 and counts[low - 1] >= counts[peak] / 2:
        low -= 1
    while high + 1 < len(counts) and counts[high + 1] >= counts[peak] / 2:
        high += 1
    if high * cell > WALL_REACH / 2 or counts[peak] < WALL_BAND_CONTRAST * counts[high + 1:].mean():
        return None
    if peak >= 2 and low == peak:
        return None  # a face standing alone inside the outline (furniture's front), not a noise band
    if peak == 0:
        return 0.0  # the outline runs along the densest layer: the wall already
    below, top, above = counts[peak - 1], counts[peak], counts[peak + 1]
    curvature = below - 2.0 * top + above
    offset = 0.5 * (below - above) / curvature if curvature < 0 else 0.0
    return float((peak + np.clip(offset, -0.5, 0.5)) * cell)


def _depth_inside(grid: FloorGrid) -> np.ndarray:
    """Per cell, how far (m) inside the footprint's outer cell centres it lies (-cell outside).
    Nothing farther inside than a band can lie behind a hull edge within it: the tests against
    the hull's edges read only the cells near the outline, so their work grows with the
    outline, not with the area (a warehouse's racks)."""
    return (ndimage.distance_transform_edt(np.pad(grid.footprint, 1))[1:-1, 1:-1] - 1.0) * grid.cell


def _wall_columns(grid: FloorGrid, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Footprint cells within WALL_REACH of its outline that hold wall voxels: their centres
    (C, 2) and metres of voxels (C,)."""
    ix, iy = np.nonzero((grid.walls > 0) & (depth >= 0) & (depth <= WALL_REACH))
    return grid.centre(ix, iy), grid.walls[ix, iy]


def _hull(grid: FloorGrid) -> tuple[np.ndarray, ConvexHull]:
    """The footprint's cell centres and their convex hull; OperationError when degenerate."""
    centres = _cell_centres(grid.footprint, grid)
    try:
        return centres, ConvexHull(centres)
    except (QhullError, ValueError) as err:
        raise OperationError("the map's footprint is degenerate (a line or a point)") from err


def _behind_edges(centres: np.ndarray, hull: ConvexHull, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points xy (N, 2): the hull edge each lies behind (the nearest one it projects onto) and
    how far inside its line (m, inf where it projects onto none)."""
    start, end = centres[hull.simplices[:, 0]], centres[hull.simplices[:, 1]]
    length = np.linalg.norm(end - start, axis=1)
    along = np.einsum("cfk,fk->cf", xy[:, None, :] - start[None], (end - start) / length[:, None])
    inward = -(xy @ hull.equations[:, :2].T + hull.equations[:, 2])
    behind = np.where((along >= 0) & (along <= length), inward, np.inf)
    return behind.argmin(axis=1), behind.min(axis=1)


def _edge_insets(grid: FloorGrid, centres: np.ndarray, hull: ConvexHull, depth: np.ndarray) -> np.ndarray:
    """How far (m) inside each hull edge the wall surface behind it lies: the middle of the band
    of wall voxels behind the edge, or of the band behind the whole outline where an edge has too
    few voxels or no band of its own (0 where there is none at all)."""
    columns, height = _wall_columns(grid, depth)
    edge, distance = _behind_edges(centres, hull, columns)
    near = distance <= WALL_REACH
    length = np.linalg.norm(centres[hull.simplices[:, 1]] - centres[hull.simplices[:, 0]], axis=1)
    whole = _band_middle(distance[near], height[near], grid.cell, length.sum())
    inset = np.zeros(len(hull.equations))
    for f in range(len(inset)):
        mine = near & (edge == f)
        own = _band_middle(distance[mine], height[mine], grid.cell, length[f])
        inset[f] = own if own is not None else whole or 0.0
    return inset


def footprint_area(grid: FloorGrid) -> float:
    """Area enclosed by the footprint's outer cell centres (half of each boundary cell lies
    outside the wall surface the voxels sample), without the cells between a hull edge and the
    wall surface behind it (see room_outline). Walls away from the hull (the inner corner of an
    L-shaped room) keep their band."""
    centres, hull = _hull(grid)
    depth = _depth_inside(grid)
    inset = np.round(_edge_insets(grid, centres, hull, depth) / grid.cell) * grid.cell
    mask = grid.footprint.copy()
    if inset.any():
        ix, iy = np.nonzero(mask & (depth < inset.max()))
        edge, distance = _behind_edges(centres, hull, grid.centre(ix, iy))
        drop = distance < inset[edge] - 1e-6
        mask[ix[drop], iy[drop]] = False
    boundary = mask & ~ndimage.binary_erosion(mask, border_value=0)
    return float((mask.sum() - boundary.sum() / 2.0) * grid.cell ** 2)


def room_outline(grid: FloorGrid) -> np.ndarray:
    """The room's convex outline (V, 2), counter-clockwise: the convex hull of the footprint's
    cell centres with each edge moved in to the wall surface behind it (`_edge_insets`)."""
    centres, hull = _hull(grid)
    inset = _edge_insets(grid, centres, hull, _depth_inside(grid))
    if not inset.any():
        return centres[hull.vertices]
    halfplanes = hull.equations.copy()
    halfplanes[:, 2] += inset
    try:
        corners = HalfspaceIntersection(halfplanes, centres[hull.vertices].mean(axis=0)).intersections
        outline = ConvexHull(corners)
    except (QhullError, ValueError):  # a map a few cells wide: the bands meet
        return centres[hull.vertices]
    return corners[outline.vertices]


def hull_area(grid: FloorGrid) -> float:
    """Area of the room's convex outline (over-estimates rooms that are not convex)."""
    outline = room_outline(grid)
    x, y = outline[:, 0], outline[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def floor_rectangle(grid: FloorGrid) -> tuple[float, float]:
    """Length and width (length >= width) of the smallest rectangle around the room's outline;
    one of its sides lies along an edge of the outline."""
    outline = room_outline(grid)
    edges = np.diff(np.vstack([outline, outline[:1]]), axis=0)
    angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    extents = []
    for angle in angles:
        c, s = np.cos(angle), np.sin(angle)
        rotated = outline @ np.array([[c, -s], [s, c]])
        extents.append(rotated.max(axis=0) - rotated.min(axis=0))
    length, width = sorted(min(extents, key=np.prod), reverse=True)
    return float(length), float(width)
