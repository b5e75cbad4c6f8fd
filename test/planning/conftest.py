"""Snapshots with known geometry for the planning tests, and the ground truth computed from it.

The room is 6 m x 4 m (x right, y into the room, z up). Objects are axis-aligned boxes whose
surfaces are sampled as their points; the camera walks along +x facing +y, then back. Ground truth is
computed here from the boxes and poses, independently of the DSL.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # corpus.py: the question corpus of this folder
from reasmory_ros.memory.snapshot import MemorySnapshot, ObjectRecord, SceneMap, Trajectory

ROOM = (6.0, 4.0)
CAMERA_STEP = 0.04
# label, centre, extent (length along x, width along y, height), first seen frame (0-based)
BOXES = [
    ("sofa", (0.6, 2.0, 0.4), (0.9, 2.0, 0.8), 5),
    ("tv", (5.8, 2.0, 1.0), (0.1, 1.2, 0.7), 30),
    ("bed", (3.0, 3.2, 0.3), (2.0, 1.6, 0.6), 12),
    ("table", (3.0, 1.0, 0.4), (1.2, 0.8, 0.8), 0),
    ("chair", (2.0, 0.4, 0.45), (0.5, 0.5, 0.9), 2),
    ("chair", (4.2, 0.4, 0.45), (0.5, 0.5, 0.9), 3),
    ("chair", (4.2, 1.6, 0.45), (0.5, 0.5, 0.9), 40),
    ("lamp", (5.5, 3.7, 0.8), (0.3, 0.3, 1.6), 60),
    ("plant", (3.0, 0.15, 0.3), (0.2, 0.2, 0.6), 70),
]


def box_points(centre, extent, step=0.05) -> np.ndarray:
    """Points on the six faces of an axis-aligned box."""
    c, e = np.asarray(centre, float), np.asarray(extent, float)
    lo, hi = c - e / 2, c + e / 2
    axes = [np.linspace(lo[i], hi[i], max(2, int(round(e[i] / step)) + 1)) for i in range(3)]
    faces = []
    for i in range(3):
        j, k = [a for a in range(3) if a != i]
        gj, gk = np.meshgrid(axes[j], axes[k], indexing="ij")
        for value in (lo[i], hi[i]):
            face = np.zeros((gj.size, 3))
            face[:, i], face[:, j], face[:, k] = value, gj.ravel(), gk.ravel()
            faces.append(face)
    return np.unique(np.round(np.vstack(faces), 4), axis=0)


TURNING_FRAME = 59


def camera_pose(i: int) -> np.ndarray:
    """Frame i (0-based): 4 cm steps along +x up to frame 59, then back along -x; always at
    y = 0.3, z = 1.5 with the optical axis +y (right +x, down -z)."""
    pose = np.eye(4)
    pose[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    x = 1.5 + CAMERA_STEP * (min(i, TURNING_FRAME) - max(0, i - TURNING_FRAME))
    pose[:3, 3] = (x, 0.3, 1.5)
    return pose


def make_snapshot(boxes=BOXES, frames: int = 100) -> MemorySnapshot:
    objects = []
    for n, (label, centre, extent, first) in enumerate(boxes):
        points = box_points(centre, extent)
        objects.append(
            ObjectRecord(
                id=n + 1, label=label, label_histogram={label: 1.0}, center=np.array(centre, float),
                extent=np.array(extent, float), yaw=0.0, points=points.astype(np.float32),
                first_seen_frame=first, first_seen_time=first / 10.0, last_seen_frame=frames - 1,
                last_seen_time=(frames - 1) / 10.0, observations=10, centroid=points.mean(axis=0),
            )
        )
    xs, ys = np.meshgrid(np.arange(0.05, ROOM[0], 0.1), np.arange(0.05, ROOM[1], 0.1), indexing="ij")
    floor = np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.05)])
    cloud = np.vstack([floor] + [o.points for o in objects]).astype(np.float32)
    poses = np.stack([camera_pose(i) for i in range(frames)])
    steps = np.r_[0.0, np.full(frames - 1, CAMERA_STEP)]
    trajectory = Trajectory(np.arange(frames), np.arange(frames) / 10.0, poses, np.cumsum(steps))
    return MemorySnapshot(
        objects=tuple(objects), trajectory=trajectory, keyframes=(),
        scene_map=SceneMap(cloud, np.full(cloud.shape, 128, np.uint8), 0.1), frame_count=frames,
        image_size=(480, 640), K=np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]),
    )


class Truth:
    """Ground truth from the boxes (unique labels only)."""

    camera_step = CAMERA_STEP
    camera_pose = staticmethod(camera_pose)

    @staticmethod
    def displacement(frame_a: int, frame_b: int) -> float:
        """Straight-line camera displacement between 1-based frames."""
        return float(np.linalg.norm(camera_pose(frame_b - 1)[:3, 3] - camera_pose(frame_a - 1)[:3, 3]))

    def __init__(self, boxes=BOXES):
        self.boxes = {label: (np.array(c), np.array(e), f) for label, c, e, f in boxes}

    def centre(self, label):
        return self.boxes[label][0]

    def gap(self, a, b) -> float:
        """Distance between the closest points of two boxes."""
        (ca, ea, _), (cb, eb, _) = self.boxes[a], self.boxes[b]
        per_axis = np.maximum(0.0, np.abs(ca - cb) - (ea + eb) / 2)
        return float(np.linalg.norm(per_axis))

    def point_gap(self, point, label) -> float:
        c, e, _ = self.boxes[label]
        return float(np.linalg.norm(np.maximum(0.0, np.abs(np.asarray(point) - c) - e / 2)))

    def volume(self, label) -> float:
        return float(np.prod(self.boxes[label][1]))

    def longest(self, label) -> float:
        return float(self.boxes[label][1].max())

    @staticmethod
    def angle(origin, facing, target) -> float:
        """Angle (deg, + = left) of target seen from origin looking at facing, on the floor plane."""
        fwd = np.asarray(facing)[:2] - np.asarray(origin)[:2]
        v = np.asarray(target)[:2] - np.asarray(origin)[:2]
        return math.degrees(math.atan2(fwd[0] * v[1] - fwd[1] * v[0], fwd @ v))

    def first_seen_order(self, labels):
        return sorted(labels, key=lambda label: self.boxes[label][2])


@pytest.fixture(scope="session")
def snapshot() -> MemorySnapshot:
    return make_snapshot()


@pytest.fixture(scope="session")
def truth() -> Truth:
    return Truth()
