"""Handheld-like camera paths through a scene's walkable floor.

The path is a smooth closed loop: waypoints in angular sectors around the room, joined by
clearance-aware shortest paths on a floor grid and smoothed. The camera looks mostly inwards
(towards the room's content) with a slight downward pitch, so one loop sees every side of the
room. Poses are of the camera *optical* frame (z forward, x right, y down) in the z-up world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from .scene import Scene

GRID = 0.05
"""Floor grid resolution (m) for free-space planning."""
OBJECT_CLEARANCE = 0.35
WALL_CLEARANCE = 0.5
DEFAULT_FPS = 10.0
DEFAULT_START_TIME = 1_700_000_000.0


@dataclass(frozen=True)
class FreeSpace:
    """Walkable floor cells (largest connected component) and their clearance (m)."""

    origin: np.ndarray
    mask: np.ndarray
    clearance: np.ndarray

    @property
    def area(self) -> float:
        return float(self.mask.sum()) * GRID * GRID

    @property
    def usable(self) -> bool:
        """Enough connected floor to walk a loop around the room."""
        return self.area >= 1.5

    def cell_centers(self, ij: np.ndarray) -> np.ndarray:
        return self.origin + (np.asarray(ij) + 0.5) * GRID


def free_space(scene: Scene) -> FreeSpace:
    """Floor cells a person holding a camera can stand on: away from walls and furniture."""
    room = scene.room
    nx = int(math.ceil((room.xmax - room.xmin) / GRID))
    ny = int(math.ceil((room.ymax - room.ymin) / GRID))
    origin = np.array([room.xmin, room.ymin])
    centers = origin + (np.stack(np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij"), -1) + 0.5) * GRID
    occupied = np.zeros((nx, ny), dtype=bool)
    for obj in scene.objects:
        if obj.parent is not None:
            continue
        poly = obj.footprint()
        inside = np.ones((nx, ny), dtype=bool)
        for a, b in zip(poly, np.roll(poly, -1, axis=0)):
            edge = b - a
            inside &= (edge[0] * (centers[..., 1] - a[1]) - edge[1] * (centers[..., 0] - a[0])) >= 0
        occupied |= inside
    to_object = ndimage.distance_transform_edt(~occupied) * GRID
    to_wall = np.minimum.reduce([
        centers[..., 0] - room.xmin, room.xmax - centers[..., 0],
        centers[..., 1] - room.ymin, room.ymax - centers[..., 1],
    ])
    free = (to_object >= OBJECT_CLEARANCE) & (to_wall >= WALL_CLEARANCE)
    labels, n = ndimage.label(free, structure=np.ones((3, 3)))
    if n == 0:
        return FreeSpace(origin, free, to_object)
    sizes = ndimage.sum(free, labels, index=np.arange(1, n + 1))
    mask = labels == (1 + int(np.argmax(sizes)))
    return FreeSpace(origin, mask, np.minimum(to_object, to_wall))


@dataclass(frozen=True)
class CameraPath:
    """Camera poses (N x 4 x 4, optical frame in the world) and timestamps (N,) in seconds."""

    poses: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return int(self.poses.shape[0])

    @property
    def positions(self) -> np.ndarray:
        return self.poses[:, :3, 3]


def look_rotation(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """Optical-frame rotation (columns: x right, y down, z forward) for a heading `yaw` about
    world z (0 = +x), `pitch` (negative looks down) and `roll` about the viewing axis."""
    forward = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    return np.column_stack([c * right + s * down, -s * right + c * down, forward])


def _loop_cells(space: FreeSpace, rng: np.random.Generator, sectors: int = 8) -> np.ndarray:
    """Closed polyline (M x 2 grid indices) through one waypoint per angular sector."""
    cells = np.argwhere(space.mask)
    xy = space.cell_centers(cells)
    center = xy.mean(axis=0)
    rel = xy - center
    radius = np.linalg.norm(rel, axis=1)
    angle = np.arctan2(rel[:, 1], rel[:, 0])
    clear = np.minimum(space.clearance[cells[:, 0], cells[:, 1]], 0.8)
    offset = rng.uniform(-math.pi, math.pi)
    waypoints = []
    for k in range(sectors):
        lo = offset + 2 * math.pi * k / sectors
        in_sector = np.mod(angle - lo, 2 * math.pi) < 2 * math.pi / sectors
        if not in_sector.any():
            continue
        r = radius[in_sector]
        # Far from the centre (sees across the room) but with clearance from furniture.
        score = r / max(r.max(), 1e-6) + clear[in_sector] / 0.8 + rng.uniform(0, 0.2, size=r.size)
        waypoints.append(int(np.flatnonzero(in_sector)[np.argmax(score)]))
    if rng.random() < 0.5:
        waypoints.reverse()
    if len(waypoints) < 2:
        return cells[waypoints[:1] * 2]

    # Grid graph over free cells, 8-connected, cheaper far from obstacles.
    index = -np.ones(space.mask.shape, dtype=np.int64)
    index[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    rows, cols, weights = [], [], []
    for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1)):
        nb = cells + (di, dj)
        ok = (nb[:, 0] >= 0) & (nb[:, 0] < index.shape[0]) & (nb[:, 1] >= 0) & (nb[:, 1] < index.shape[1])
        src, nb = np.flatnonzero(ok), nb[ok]
        dst = index[nb[:, 0], nb[:, 1]]
        keep = dst >= 0
        src, dst = src[keep], dst[keep]
        step = GRID * math.hypot(di, dj) * (1.0 + 0.3 / np.maximum(clear[src] + clear[dst], 0.1))
        rows += [src, dst]
        cols += [dst, src]
        weights += [step, step]
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(cells), len(cells))).tocsr()
    _, pred = dijkstra(graph, indices=waypoints, return_predecessors=True)
    loop = []
    for k, start in enumerate(waypoints):
        goal = waypoints[(k + 1) % len(waypoints)]
        leg = [goal]
        while leg[-1] != start and leg[-1] >= 0:
            leg.append(pred[k, leg[-1]])
        loop += leg[::-1][:-1]
    return cells[loop]


def _resample_closed(points: np.ndarray, spacing: float) -> np.ndarray:
    closed = np.vstack([points, points[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return points[:1]
    samples = np.arange(0.0, s[-1], spacing)
    return np.column_stack([np.interp(samples, s, closed[:, d]) for d in range(2)])


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float, scale: float) -> np.ndarray:
    """Low-pass random signal (handheld shake) with standard deviation about `scale`."""
    noise = ndimage.gaussian_filter1d(rng.normal(size=max(n + 1, 64)), sigma=max(sigma, 0.5), mode="wrap")
    return noise[:n] / noise.std() * scale


def _glance_at_missed_objects(scene: Scene, xy, height, yaw, pitch, hfov: float, vfov: float) -> np.ndarray:
    """Add smooth head turns towards objects the base heading never frames well.

    An object is framed when its centre lies in the inner 80 % of the field of view at 0.7-5 m.
    For each object framed in fewer than 3 frames, the camera turns towards it around the frame
    needing the smallest turn, like a person glancing at something (occlusion is ignored here).
    """
    n = len(yaw)
    frames = np.arange(n)
    width = max(2.0, n / 40.0)
    yaw = yaw.copy()
    for _ in range(2):
        for obj in scene.objects:
            rel = obj.center[:2] - xy
            dist = np.linalg.norm(rel, axis=1)
            turn = np.arctan2(rel[:, 1], rel[:, 0]) - yaw
            turn = np.arctan2(np.sin(turn), np.cos(turn))
            tilt = np.arctan2(obj.center[2] - height, dist) - pitch
            in_range = (dist > 0.7) & (dist < 5.0) & (np.abs(tilt) < 0.4 * vfov)
            if ((np.abs(turn) < 0.4 * hfov) & in_range).sum() >= 3 or not in_range.any():
                continue
            cost = np.abs(turn) + 0.2 * np.abs(dist - 2.0) + np.where(in_range, 0.0, np.inf)
            k = int(np.argmin(cost))
            yaw += turn[k] * np.exp(-0.5 * ((frames - k) / width) ** 2)
    return yaw


def camera_trajectory(
    scene: Scene,
    n_frames: int,
    seed: int,
    fps: float = DEFAULT_FPS,
    start_time: float = DEFAULT_START_TIME,
    hfov: float = math.radians(62.0),
    vfov: float = math.radians(49.0),
) -> CameraPath:
    """One smooth loop around the room's free floor in `n_frames` poses at `fps`.

    Camera height 1.2-1.6 m, pitch about 10-20 degrees down, the heading turned mostly towards
    the room's centre with a slow sway and a little handheld shake, so one loop observes every
    object; where that base heading never frames an object, the camera glances at it. `hfov` and
    `vfov` are the camera's fields of view (defaults: the 640x480, f = 525 sensor).
    Deterministic in (scene, n_frames, seed).
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    rng = np.random.default_rng([scene.seed, seed, 7])
    space = free_space(scene)
    if not space.mask.any():
        raise ValueError(f"scene {scene.seed} has no walkable floor")
    loop = _resample_closed(space.cell_centers(_loop_cells(space, rng)), 0.05)
    if len(loop) >= 8:
        loop = ndimage.gaussian_filter1d(loop, sigma=min(8.0, len(loop) / 8), axis=0, mode="wrap")
    dense = _resample_closed(loop, 0.01)
    # Walk once around the loop at a slightly varying speed.
    u = np.arange(n_frames) / n_frames
    u = u + 0.02 * np.sin(2 * math.pi * 3 * u + rng.uniform(0, 2 * math.pi))
    start = rng.integers(len(dense))
    idx = (start + np.round(u * len(dense)).astype(int)) % len(dense)
    xy = dense[idx]
    tangent = dense[(idx + 5) % len(dense)] - dense[(idx - 5) % len(dense)]

    center = space.cell_centers(np.argwhere(space.mask)).mean(axis=0)
    center = 0.5 * center + 0.5 * scene.room.center
    inward = center - xy
    dist = np.linalg.norm(inward, axis=1, keepdims=True)
    tangent = tangent / np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    w = np.clip(dist / 1.0, 0.0, 1.0)  # near the centre, look along the path instead
    look = w * inward / np.maximum(dist, 1e-9) + (1 - w) * tangent + 0.35 * tangent
    yaw = np.unwrap(np.arctan2(look[:, 1], look[:, 0]))
    sway_period = max(n_frames / 4.0, 4.0)
    yaw = yaw + 0.35 * np.sin(2 * math.pi * np.arange(n_frames) / sway_period + rng.uniform(0, 2 * math.pi))
    yaw = ndimage.gaussian_filter1d(yaw, sigma=max(1.0, n_frames / 100), mode="nearest")

    shake = max(1.0, n_frames / 60)
    height = rng.uniform(1.2, 1.6) + _smooth_noise(rng, n_frames, shake, 0.03)
    pitch = -math.radians(rng.uniform(10, 20)) + _smooth_noise(rng, n_frames, shake, math.radians(3))
    yaw = _glance_at_missed_objects(scene, xy, height, yaw, pitch, hfov, vfov)
    roll = _smooth_noise(rng, n_frames, shake, math.radians(1.5))
    yaw = yaw + _smooth_noise(rng, n_frames, shake, math.radians(1.5))
    xy = xy + np.column_stack([_smooth_noise(rng, n_frames, shake, 0.015) for _ in range(2)])

    poses = np.tile(np.eye(4), (n_frames, 1, 1))
    for i in range(n_frames):
        poses[i, :3, :3] = look_rotation(yaw[i], pitch[i], roll[i])
        poses[i, :3, 3] = (xy[i, 0], xy[i, 1], height[i])
    return CameraPath(poses, start_time + np.arange(n_frames) / fps)
