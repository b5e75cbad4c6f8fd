"""Shortest routes over the free floor of the map.

The free cells of the floor grid form an 8-connected graph (no cutting of obstacle corners);
scipy's compiled Dijkstra finds the shortest cell path (A* with a zero heuristic, but in C, which
is faster here than a Python A*), and string pulling shortens the staircase into straight runs
so the length is close to what a robot would drive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from .floorplan import FloorGrid

MAX_SNAP = 1.5
"""A stop may be this far (m) from free floor: objects stand on obstacles, cameras above them."""
ENTRY_MARGIN = 0.3
"""Free cells up to this much farther than the nearest one also count as a stop's way out."""
SIGHT_BATCH = 16
"""String pulling tests this many shortcuts from a kept point in one batch."""


@dataclass(frozen=True)
class NavGrid:
    """Graph over the free cells: node i is cell `cells[i]`, centred at `centres[i]` on the
    floor; two spare nodes at the end are the start and goal of a query. Edges are stored both
    ways."""

    floor: FloorGrid
    cells: np.ndarray
    centres: np.ndarray
    graph: csr_matrix
    nearest_free: np.ndarray

    @property
    def cell(self) -> float:
        return self.floor.cell


def _window(mask: np.ndarray, dx: int, dy: int, ox: int, oy: int) -> np.ndarray:
    """mask[i + ox, j + oy] for every cell (i, j) whose neighbour (i + dx, j + dy) is in the grid."""
    nx, ny = mask.shape
    return mask[max(0, -dx) + ox:nx - max(0, dx) + ox, max(0, -dy) + oy:ny - max(0, dy) + oy]


def build_nav_grid(floor: FloorGrid) -> NavGrid:
    free = floor.free
    cells = np.argwhere(free)
    node_of = np.full(free.shape, -1, dtype=np.int64)
    node_of[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    rows, cols, weights = [], [], []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        ok = _window(free, dx, dy, 0, 0) & _window(free, dx, dy, dx, dy)
        if dx and dy:  # a diagonal step must not cut an obstacle's corner
            ok &= _window(free, dx, dy, dx, 0) & _window(free, dx, dy, 0, dy)
        ix, iy = np.nonzero(ok)
        ix, iy = ix + max(0, -dx), iy + max(0, -dy)
        rows.append(node_of[ix, iy])
        cols.append(node_of[ix + dx, iy + dy])
        weights.append(np.full(len(ix), np.hypot(dx, dy) * floor.cell))
    rows, cols, weights = map(np.concatenate, (rows, cols, weights))
    size = len(cells) + 2
    graph = coo_matrix((np.concatenate([weights, weights]),
                        (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                       shape=(size, size)).tocsr()
    if len(cells):
        _, nearest = ndimage.distance_transform_edt(~free, return_indices=True)
    else:
        nearest = np.zeros((2,) + free.shape, dtype=np.int64)
    return NavGrid(floor, cells, floor.centre(cells[:, 0], cells[:, 1]), graph, nearest)


def _entry_cells(grid: NavGrid, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Free cells a stop can be left or reached from, and the straight distance to each.

    A stop inside an obstacle (an object's centre) may exit on any side: every free cell within
    ENTRY_MARGIN of the nearest one is a candidate, so the search picks the side that suits the
    route. None lie farther than MAX_SNAP.
    """
    ix, iy = grid.floor.index(xy)
    fx, fy = int(grid.nearest_free[0, ix, iy]), int(grid.nearest_free[1, ix, iy])
    empty = np.zeros(0, dtype=np.int64), np.zeros(0)
    if not grid.floor.free[fx, fy]:
        return empty
    reach = np.linalg.norm(grid.floor.centre(fx, fy)[0] - xy[:2]) + ENTRY_MARGIN
    if reach > MAX_SNAP + ENTRY_MARGIN:
        return empty
    offsets = grid.centres - xy[:2]
    distances = np.sqrt(offsets[:, 0] ** 2 + offsets[:, 1] ** 2)
    nodes = np.flatnonzero(distances <= min(reach, MAX_SNAP))
    return nodes, distances[nodes]


def _visible_from(grid: NavGrid, a: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Whether each straight segment from `a` to a target stays on free cells, sampled every half
    cell (end points included); all segments in one batch."""
    deltas = targets - a
    steps = np.maximum(2, np.ceil(np.linalg.norm(deltas, axis=1) / (grid.cell / 2)).astype(int) + 1)
    segment = np.repeat(np.arange(len(targets)), steps)
    starts = np.cumsum(steps) - steps
    fraction = (np.arange(len(segment)) - starts[segment]) * (1.0 / (steps - 1))[segment]
    fraction[starts + steps - 1] = 1.0
    samples = a + fraction[:, None] * deltas[segment]
    i = np.round((samples[:, 0] - grid.floor.origin[0]) / grid.cell).astype(int)
    j = np.round((samples[:, 1] - grid.floor.origin[1]) / grid.cell).astype(int)
    free = grid.floor.free
    inside = (i >= 0) & (i < free.shape[0]) & (j >= 0) & (j < free.shape[1])
    clear = inside & free[np.where(inside, i, 0), np.where(inside, j, 0)]
    return np.logical_and.reduceat(clear, starts)


def _pull_string(grid: NavGrid, points: np.ndarray) -> np.ndarray:
    """Drop cell-path points while the shortcut between kept points stays free: the point kept
    after `a` is the one before the first point (two or more ahead) that `a` cannot see."""
    if len(points) <= 2:
        return points
    kept, target = [0], 2
    while target < len(points):
        batch = np.arange(target, min(target + SIGHT_BATCH, len(points)))
        blocked = np.flatnonzero(~_visible_from(grid, points[kept[-1]], points[batch]))
        if len(blocked):
            kept.append(int(batch[blocked[0]]) - 1)
            target = kept[-1] + 2
        else:
            target = int(batch[-1]) + 1
    kept.append(len(points) - 1)
    return points[kept]


def plan(grid: NavGrid, start: np.ndarray, goal: np.ndarray) -> np.ndarray | None:
    """Floor waypoints (K x 2) from start to goal over free space, or None when there is none.

    Two virtual nodes join the graph: the start, linked to its entry cells, and the goal, linked
    from its own, each by the straight distance; one Dijkstra run then finds the best pair.
    """
    (s_nodes, s_cost), (g_nodes, g_cost) = _entry_cells(grid, start), _entry_cells(grid, goal)
    if not len(s_nodes) or not len(g_nodes):
        return None
    n = len(grid.cells)
    source, target = n, n + 1
    extra = coo_matrix((np.concatenate([s_cost, g_cost]) + 1e-9,
                        (np.concatenate([np.full(len(s_nodes), source), g_nodes]),
                         np.concatenate([s_nodes, np.full(len(g_nodes), target)]))),
                       shape=(n + 2, n + 2))
    graph = (grid.graph + extra).tocsr()
    distances, predecessors = dijkstra(graph, directed=True, indices=source,
                                       return_predecessors=True)
    if not np.isfinite(distances[target]):
        return None
    nodes = []
    node = int(predecessors[target])
    while node != source:
        nodes.append(node)
        node = int(predecessors[node])
    path = _pull_string(grid, grid.centres[nodes[::-1]])
    return np.vstack([np.asarray(start[:2], dtype=np.float64), path,
                      np.asarray(goal[:2], dtype=np.float64)])



def distances_from(grid: NavGrid, start: np.ndarray) -> np.ndarray:
    """Route length (m) from a stop to every free cell over free floor (inf: unreachable)."""
    nodes, cost = _entry_cells(grid, start)
    n = len(grid.cells)
    if not len(nodes):
        return np.full(n, np.inf)
    extra = coo_matrix((cost + 1e-9, (np.full(len(nodes), n), nodes)), shape=(n + 2, n + 2))
    distances = dijkstra((grid.graph + extra).tocsr(), directed=True, indices=n)
    return distances[:n]
