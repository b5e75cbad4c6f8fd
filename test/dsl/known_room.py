"""A living room of known geometry, as a MemorySnapshot, plus ground-truth helpers.

Room: floor x 0..6 m, y 0..5 m at z = 0, walls 2.6 m high, voxels every 0.1 m. Boxes stand for
the furniture (surface points every 5 cm). The camera walks north along x = 3 for 60 frames, then
east along y = 3.8 for 40 frames, pitched 15 deg down, 10 frames per second, stamps from 1000 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reasmory_ros.memory.snapshot import Keyframe, MemorySnapshot, ObjectRecord, SceneMap, Trajectory

VOXEL = 0.1
ROOM = (6.0, 5.0, 2.6)
FPS = 10.0
T0 = 1000.0
PITCH = math.radians(15.0)
K = np.array([[525.0, 0.0, 320.0], [0.0, 525.0, 240.0], [0.0, 0.0, 1.0]])
IMAGE_SIZE = (640, 480)


@dataclass(frozen=True)
class Box:
    label: str
    center: tuple[float, float, float]
    size_xyz: tuple[float, float, float]
    first_seen: int
    color: str = ""

    @property
    def lo(self) -> np.ndarray:
        return np.array(self.center) - np.array(self.size_xyz) / 2

    @property
    def hi(self) -> np.ndarray:
        return np.array(self.center) + np.array(self.size_xyz) / 2


BOXES = (
    Box("sofa", (1.5, 1.0, 0.4), (2.0, 0.9, 0.8), 0, "gray"),
    Box("potted_plant", (0.4, 0.4, 0.5), (0.4, 0.4, 1.0), 3, "green"),
    Box("Coffee Table", (1.5, 2.4, 0.225), (1.0, 0.6, 0.45), 10, "brown"),
    Box("tv", (1.5, 4.85, 1.2), (1.2, 0.1, 0.7), 25, "black"),
    Box("lamp", (0.3, 4.6, 0.8), (0.3, 0.3, 1.6), 30, "white"),
    Box("chair", (4.5, 1.0, 0.45), (0.5, 0.5, 0.9), 40, "red"),
    Box("chair", (5.2, 1.0, 0.45), (0.5, 0.5, 0.9), 45, "red"),
    Box("bookshelf", (5.8, 2.5, 1.0), (0.3, 1.2, 2.0), 50, "brown"),
    Box("chair", (4.5, 3.9, 0.45), (0.5, 0.5, 0.9), 60, "blue"),
    Box("cup", (1.3, 2.3, 0.5), (0.1, 0.1, 0.1), 70, "white"),
)
"""Axis-aligned boxes in world axes; the bookshelf's long side runs along y (stored yaw 90 deg).
The cup stands on the coffee table; colours are the names the memory would have stored."""


def box_surface(box: Box, step: float = 0.05) -> np.ndarray:
    axes = [np.linspace(lo, hi, max(2, int(round((hi - lo) / step)) + 1))
            for lo, hi in zip(box.lo, box.hi)]
    points = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        grid = np.stack(np.meshgrid(axes[others[0]], axes[others[1]], indexing="ij"), -1)
        grid = grid.reshape(-1, 2)
        for value in (box.lo[axis], box.hi[axis]):
            face = np.empty((len(grid), 3))
            face[:, axis] = value
            face[:, others] = grid
            points.append(face)
    return np.unique(np.vstack(points).round(6), axis=0)


def box_gap(a: Box, b: Box) -> float:
    """Exact distance between two axis-aligned boxes."""
    gap = np.maximum(0.0, np.maximum(a.lo - b.hi, b.lo - a.hi))
    return float(np.linalg.norm(gap))


def _record(i: int, box: Box) -> ObjectRecord:
    sx, sy, sz = box.size_xyz
    extent, yaw = (np.array([sx, sy, sz]), 0.0) if sx >= sy else (np.array([sy, sx, sz]), math.pi / 2)
    frame = box.first_seen
    return ObjectRecord(
        id=10 + i, label=box.label, label_histogram={box.label: 1.0},
        center=np.array(box.center, dtype=np.float64), extent=extent, yaw=yaw,
        points=box_surface(box).astype(np.float32), first_seen_frame=frame,
        first_seen_time=T0 + frame / FPS, last_seen_frame=99, last_seen_time=T0 + 9.9,
        observations=20, color=box.color)


def room_points() -> tuple[np.ndarray, np.ndarray]:
    """Floor and wall voxel centres with colours."""
    xs = np.round(np.arange(0.0, ROOM[0] + 1e-9, VOXEL), 6)
    ys = np.round(np.arange(0.0, ROOM[1] + 1e-9, VOXEL), 6)
    zs = np.round(np.arange(VOXEL, ROOM[2] + 1e-9, VOXEL), 6)
    floor = np.array([(x, y, 0.0) for x in xs for y in ys])
    walls = [(x, y, z) for z in zs for x in xs for y in (0.0, ROOM[1])]
    walls += [(x, y, z) for z in zs for y in ys[1:-1] for x in (0.0, ROOM[0])]
    points = np.vstack([floor, np.array(walls)])
    colors = np.where(points[:, 2:3] == 0.0, [[150, 110, 70]], [[220, 220, 210]]).astype(np.uint8)
    return points, colors


def camera_pose(position: np.ndarray, heading: float, pitch: float = PITCH) -> np.ndarray:
    """Optical-frame pose: looking along `heading` (rad from world x), tilted down by `pitch`."""
    forward = np.array([math.cos(heading) * math.cos(pitch), math.sin(heading) * math.cos(pitch),
                        -math.sin(pitch)])
    right = np.array([math.sin(heading), -math.cos(heading), 0.0])
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def camera_positions() -> tuple[np.ndarray, np.ndarray]:
    """Positions (100 x 3) and headings (100,) of the walk."""
    positions, headings = [], []
    for f in range(100):
        if f < 60:
            positions.append((3.0, 0.8 + 3.0 * f / 59, 1.5))
            headings.append(math.pi / 2)
        else:
            positions.append((3.0 + 2.0 * (f - 59) / 40, 3.8, 1.5))
            headings.append(0.0)
    return np.array(positions), np.array(headings)


def build_snapshot() -> MemorySnapshot:
    records = tuple(_record(i, box) for i, box in enumerate(BOXES))
    positions, headings = camera_positions()
    poses = np.stack([camera_pose(p, h) for p, h in zip(positions, headings)])
    trajectory = Trajectory(np.arange(100), T0 + np.arange(100) / FPS, poses)
    room, room_colors = room_points()
    object_points = np.vstack([r.points for r in records])
    points = np.vstack([room, object_points]).astype(np.float32)
    colors = np.vstack([room_colors, np.full((len(object_points), 3), 60, np.uint8)])
    small_K = K.copy()
    small_K[:2] /= 4
    keyframes = tuple(
        Keyframe(frame_index=f, timestamp=T0 + f / FPS, T_world_camera=poses[f], K=small_K,
                 rgb=np.full((120, 160, 3), f, np.uint8), depth=np.ones((120, 160), np.float32))
        for f in (0, 60))
    return MemorySnapshot(objects=records, trajectory=trajectory, keyframes=keyframes,
                          scene_map=SceneMap(points, colors, VOXEL), frame_count=100,
                          image_size=IMAGE_SIZE, K=K)


def box(label: str, index: int = 0) -> Box:
    return [b for b in BOXES if b.label == label][index]
