"""Geometry the operations share: locations, closest points, headings, projection, intrinsics.

Plain numpy/scipy on the snapshot's arrays; the conventions are those of the memory (world z up,
camera optical frame z forward, x right, y down).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from ..memory.snapshot import MemorySnapshot, ObjectRecord
from .errors import OperationError
from .types import Camera, Direction, Obj, Point, View

DEFAULT_IMAGE_SIZE = (640, 480)
DEFAULT_FOCAL = 525.0
"""Pinhole used when the snapshot has no calibrated camera yet (a typical 640x480 RGB-D)."""


def location(value: object) -> np.ndarray:
    """The 3D point standing for a value: box centre, optical centre, view standpoint, point."""
    if isinstance(value, Obj):
        return np.asarray(value.record.center, dtype=np.float64)
    if isinstance(value, Camera):
        return value.position
    if isinstance(value, View):
        return np.asarray(value.position, dtype=np.float64)
    if isinstance(value, Point):
        return np.asarray(value.xyz, dtype=np.float64)
    raise TypeError(f"{type(value).__name__} has no location")


def box_surface_samples(record: ObjectRecord, per_edge: int = 5) -> np.ndarray:
    """Points on the faces of an object's box, for objects the memory stored no points for."""
    t = np.linspace(-0.5, 0.5, per_edge)
    grid = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
    faces = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        for side in (-0.5, 0.5):
            face = np.zeros((len(grid), 3))
            face[:, axis] = side
            face[:, others] = grid
            faces.append(face)
    local = np.vstack(faces) * np.asarray(record.extent, dtype=np.float64)
    c, s = math.cos(record.yaw), math.sin(record.yaw)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return local @ rotation.T + np.asarray(record.center, dtype=np.float64)


def surface(value: object) -> np.ndarray:
    """Points whose nearest pair defines the 'closest' distance (N x 3)."""
    if isinstance(value, Obj):
        points = np.asarray(value.record.points, dtype=np.float64).reshape(-1, 3)
        points = points[np.isfinite(points).all(axis=1)]
        return points if len(points) else box_surface_samples(value.record)
    return location(value)[None, :]


PROBE_POINTS = 64
"""Points of the smaller set queried first for an upper bound of the closest distance."""


def closest_pair(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Minimum distance between two point sets and the pair of points realising it.

    Exact, but only the points that could beat an upper bound are queried: a few spread points
    give the bound, and a point farther than it from the other set's bounding box cannot be closer."""
    small, large, swapped = (a, b, False) if len(a) <= len(b) else (b, a, True)
    tree = cKDTree(large)
    probe, _ = tree.query(small[:: max(1, len(small) // PROBE_POINTS)], k=1)
    upper = float(probe.min())
    box_gap = np.linalg.norm(np.maximum(0.0, np.maximum(large.min(axis=0) - small, small - large.max(axis=0))), axis=1)
    candidates = np.flatnonzero(box_gap <= upper)  # holds the probe's best point: never empty
    distances, index = tree.query(small[candidates], k=1, distance_upper_bound=upper * (1 + 1e-9) + 1e-12)
    i = int(np.argmin(distances))
    p, q = small[candidates[i]], large[int(index[i])]
    return float(distances[i]), (q if swapped else p), (p if swapped else q)


def bounds(value: object) -> np.ndarray:
    """Axis-aligned bounds (2 x 3) of the points `surface` measures from (an object's stored points
    read as they are: NaN bounds only make the pruning of closest_first measure that object)."""
    points = value.record.points if isinstance(value, Obj) and len(value.record.points) else surface(value)
    return np.stack([points.min(axis=0), points.max(axis=0)]).astype(np.float64)


def gap_bound(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between two axis-aligned bounds: no two points inside them are closer."""
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(a[0] - b[1], b[0] - a[1]))))


def closest_first(candidates, reference: object) -> tuple[float, np.ndarray, np.ndarray, object]:
    """(distance, p, q, candidate) of the candidate closest to the reference (closest points).
    Candidates whose bounds are farther than the best found so far are never measured, and the
    reference's points are indexed once, so a full table costs a few point queries."""
    ref_points = surface(reference)
    ref = np.stack([ref_points.min(axis=0), ref_points.max(axis=0)])
    tree = cKDTree(ref_points)
    best = None
    for bound, i in sorted((gap_bound(bounds(c), ref), i) for i, c in enumerate(candidates)):
        if best is not None and bound > best[0]:
            break
        points = surface(candidates[i])
        upper = best[0] + 1e-9 if best is not None else math.inf
        distances, index = tree.query(points, k=1, distance_upper_bound=upper)
        k = int(np.argmin(distances))
        if np.isfinite(distances[k]) and (best is None or distances[k] < best[0]):
            best = (float(distances[k]), points[k], ref_points[int(index[k])], candidates[i])
    return best


def within_reach(candidates, reference: object, limit: float) -> list[bool]:
    """Whether each candidate comes within `limit` of the reference (closest points): pruned by
    bounds, then every 8th point is tried first, as most candidates in reach are found by it."""
    ref_points = surface(reference)
    ref = np.stack([ref_points.min(axis=0), ref_points.max(axis=0)])
    tree = None
    reach = []
    for candidate in candidates:
        if gap_bound(bounds(candidate), ref) > limit:
            reach.append(False)
            continue
        tree = tree or cKDTree(ref_points)
        points = surface(candidate)
        hit = any(np.isfinite(tree.query(sample, k=1, distance_upper_bound=limit + 1e-9)[0]).any()
                  for sample in (points[::8], points))
        reach.append(bool(hit))
    return reach


def measure(a: object, b: object, mode: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Distance between two located values: 'closest' surface points or 'center' points."""
    if mode == "center":
        p, q = location(a), location(b)
        return float(np.linalg.norm(p - q)), p, q
    return closest_pair(surface(a), surface(b))


def camera_heading(pose: np.ndarray) -> float:
    """Horizontal heading (rad, counter-clockwise from world x) of a camera's optical axis.

    A camera looking straight down has no horizontal optical axis; the image's "up" (-y) is
    where it is heading then.
    """
    rotation = np.asarray(pose, dtype=np.float64)[:3, :3]
    for axis in (rotation[:, 2], -rotation[:, 1]):
        if math.hypot(axis[0], axis[1]) > 1e-3:
            return math.atan2(axis[1], axis[0])
    raise OperationError("the camera's orientation has no horizontal heading")


def heading_between(origin: np.ndarray, target: np.ndarray) -> float:
    """Heading (rad) from one point to another on the floor plane."""
    delta = np.asarray(target, dtype=np.float64)[:2] - np.asarray(origin, dtype=np.float64)[:2]
    if math.hypot(*delta) < 1e-6:
        raise OperationError("the two places are at the same floor position, so there is no "
                             "direction between them",
                             "face something that is not directly above or below the standpoint")
    return math.atan2(delta[1], delta[0])


def relative_angle(view: View, target: np.ndarray) -> tuple[float, float]:
    """Angle (deg in (-180, 180], + = left) and horizontal distance of a point from a view."""
    delta = np.asarray(target, dtype=np.float64)[:2] - view.position[:2]
    ahead, left = float(delta @ view.forward), float(delta @ view.left)
    angle = math.degrees(math.atan2(left, ahead))
    return (180.0 if angle <= -180.0 else angle), math.hypot(ahead, left)


def direction_to(view: View, target: np.ndarray) -> Direction:
    """The Direction of a world point as seen from a view."""
    angle, distance = relative_angle(view, target)
    return Direction(angle, distance, np.asarray(view.position, dtype=np.float64),
                     np.asarray(target, dtype=np.float64))


def camera_view(camera: Camera) -> View:
    """A camera's own standpoint and horizontal heading."""
    return View(camera.position, camera_heading(camera.pose),
                f"camera at frame {camera.frame_index + 1}")


def intrinsics(snapshot: MemorySnapshot) -> tuple[np.ndarray, tuple[int, int]]:
    """K and (width, height) of the stream's camera, or a default pinhole if none is known."""
    width, height = (int(v) for v in snapshot.image_size)
    K = np.asarray(snapshot.K, dtype=np.float64)
    if width > 0 and height > 0 and K[0, 0] > 1.0 and K[1, 1] > 1.0:
        return K, (width, height)
    for keyframe in snapshot.keyframes:
        k = np.asarray(keyframe.K, dtype=np.float64)
        if k[0, 0] > 1.0:
            return k, (int(keyframe.rgb.shape[1]), int(keyframe.rgb.shape[0]))
    width, height = DEFAULT_IMAGE_SIZE
    K = np.array([[DEFAULT_FOCAL, 0, width / 2], [0, DEFAULT_FOCAL, height / 2], [0, 0, 1.0]])
    return K, (width, height)


def project(points: np.ndarray, T_world_camera: np.ndarray, K: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N x 2, u right, v down) and depths (N,) of world points."""
    T = np.asarray(T_world_camera, dtype=np.float64)
    return pixels((np.asarray(points, dtype=np.float64) - T[:3, 3]) @ T[:3, :3], K)


def pixels(in_camera: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N x 2) and depths (N,) of points given in the optical frame (N x 3)."""
    depth = in_camera[:, 2]
    safe = np.where(np.abs(depth) < 1e-9, 1e-9, depth)
    u = K[0, 0] * in_camera[:, 0] / safe + K[0, 2]
    v = K[1, 1] * in_camera[:, 1] / safe + K[1, 2]
    return np.column_stack([u, v]), depth


def in_image(uv: np.ndarray, depth: np.ndarray, size: tuple[int, int], near: float, far: float
             ) -> np.ndarray:
    """Which projected points fall inside a width x height image, between near and far."""
    width, height = size
    return ((depth > near) & (depth < far) & (uv[:, 0] >= 0) & (uv[:, 0] < width)
            & (uv[:, 1] >= 0) & (uv[:, 1] < height))


def view_pose(view: View) -> np.ndarray:
    """Optical-frame pose looking horizontally along a view's heading from its standpoint."""
    forward = np.array([math.cos(view.heading), math.sin(view.heading), 0.0])
    down = np.array([0.0, 0.0, -1.0])
    right = np.cross(down, forward)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = right, down, forward
    pose[:3, 3] = view.position
    return pose
