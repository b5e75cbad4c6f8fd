"""A consistent, read-only view of the memory that queries run against.

`SpatialMemory.snapshot()` copies its state into these plain numpy records under its update lock,
so a query never sees a half-applied frame and the DSL never touches torch or device memory.
Conventions: world frame z up (metres); camera poses are of the optical frame (z forward,
x right, y down); frame indices are 0-based (questions count from 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Placement:
    """An earlier placement of an object that moved: its box and when it was seen there."""

    center: np.ndarray
    extent: np.ndarray
    yaw: float
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float


@dataclass(frozen=True)
class ObjectRecord:
    """One 3D object instance of the episodic memory.

    The box is gravity aligned: `center` in the world, `extent` = (length, width, height) with
    length >= width measured along the box's own x/y axes, `yaw` the rotation (rad) of the box
    x axis about world z.
    """

    id: int
    label: str
    label_histogram: dict[str, float]
    center: np.ndarray
    extent: np.ndarray
    yaw: float
    points: np.ndarray
    first_seen_frame: int
    """First frame that showed the object: its first detection, or an earlier keyframe whose
    depth showed its surface where it is (memory/lifecycle.py); first_seen_time likewise."""
    first_seen_time: float
    last_seen_frame: int
    last_seen_time: float
    observations: int
    best_keyframe: int = -1
    """Frame index of the keyframe that shows the object best (most samples); -1 if none."""
    centroid: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Mean of the object's points (surface centroid), world frame."""
    color: str = ""
    """Palette name of the object's observed colour (memory/colors.py); "" if never observed."""
    color_rgb: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Mean RGB (0-255) behind `color`."""
    status: str = "present"
    """"present"; "missing" (the depth saw through its place a few times: still counted);
    "removed" (seen gone: kept for questions about the past, in MemorySnapshot.removed)."""
    gone_since_frame: int = -1
    """First frame whose depth saw through its place (missing or removed objects), else -1
    (gone_since_time likewise, stream timestamp)."""
    gone_since_time: float = -1.0
    placements: tuple[Placement, ...] = ()
    """Earlier placements of a moved object, oldest first (bounded); the box above is the current
    one, seen since `placed_frame`."""
    placed_frame: int = -1
    """First frame of the current placement (-1: the object never moved, see first_seen_frame)."""
    placed_time: float = -1.0
    appeared: bool = False
    """Its place was seen empty before it was first seen: it was brought in during the stream."""
    first_called: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Every category holding at least min_label_share of the object's label votes (its own
    label included), with the frame and time the detector first called it so: a record that
    merged masks made of a chair and a desk says when the chair was first seen."""
    hidden_depth: float = 0.0
    """Metres the box reaches behind the back that was seen, to the wall behind the object
    (memory/hidden_depth.py); 0: the box holds only what was seen."""

    @property
    def moved(self) -> bool:
        return bool(self.placements)

    def corners(self) -> np.ndarray:
        """The 8 box corners (8 x 3), bottom four first, counter-clockwise seen from above."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        half = self.extent / 2.0
        xy = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * half[:2]
        xy = xy @ np.array([[c, s], [-s, c]]) + self.center[:2]
        bottom = np.column_stack([xy, np.full(4, self.center[2] - half[2])])
        top = np.column_stack([xy, np.full(4, self.center[2] + half[2])])
        return np.vstack([bottom, top])


@dataclass(frozen=True)
class Trajectory:
    """Camera poses in stream order: frame_indices (N,), timestamps (N,), poses (N, 4, 4).

    cumulative_distance (N,): metres travelled by the camera from the first frame up to each
    entry, summed over every frame (exact even where the stored poses were thinned).
    """

    frame_indices: np.ndarray
    timestamps: np.ndarray
    poses: np.ndarray
    cumulative_distance: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.frame_indices.shape[0])

    def pose_at_frame(self, frame_index: int) -> np.ndarray:
        """Pose of a 0-based frame; the nearest stored frame when the store was thinned.

        Raises KeyError when the trajectory is empty or the frame lies outside what was seen.
        """
        if len(self) == 0:
            raise KeyError("the trajectory is empty")
        first, last = int(self.frame_indices[0]), int(self.frame_indices[-1])
        if not first <= frame_index <= last:
            raise KeyError(f"frame {frame_index + 1} is outside the frames seen ({first + 1}-{last + 1})")
        i = int(np.abs(self.frame_indices - frame_index).argmin())
        return self.poses[i]

    def distance_between(self, frame_a: int, frame_b: int) -> float:
        """Metres travelled between two 0-based frames (nearest stored frames when thinned).

        Falls back to summing the stored poses when no cumulative distance was recorded.
        Raises KeyError like `pose_at_frame` for frames outside what was seen.
        """
        for frame in (frame_a, frame_b):
            self.pose_at_frame(frame)
        i, j = (int(np.abs(self.frame_indices - f).argmin()) for f in (frame_a, frame_b))
        i, j = min(i, j), max(i, j)
        if self.cumulative_distance is not None:
            return float(self.cumulative_distance[j] - self.cumulative_distance[i])
        steps = np.diff(self.poses[i : j + 1, :3, 3], axis=0)
        return float(np.linalg.norm(steps, axis=1).sum())

    def pose_at_time(self, timestamp: float) -> np.ndarray:
        """Pose of the stored frame nearest in time; KeyError when the trajectory is empty."""
        if len(self) == 0:
            raise KeyError("the trajectory is empty")
        return self.poses[int(np.abs(self.timestamps - timestamp).argmin())]


@dataclass(frozen=True)
class Keyframe:
    """A stored view for rendering and for 'when was X seen': small rgb/depth with its camera."""

    frame_index: int
    timestamp: float
    T_world_camera: np.ndarray
    K: np.ndarray
    rgb: np.ndarray
    depth: np.ndarray
    object_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SceneMap:
    """Occupied voxels of the bounded scene map: centres (M, 3) float32, colours (M, 3) uint8."""

    points: np.ndarray
    colors: np.ndarray
    voxel_size: float

    @classmethod
    def empty(cls, voxel_size: float) -> SceneMap:
        return cls(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8), voxel_size)


@dataclass(frozen=True)
class MemorySnapshot:
    """Everything a query may read, frozen at one frame boundary.

    frame_count: frames integrated. image_size: (width, height) of the last frame.
    """

    objects: tuple[ObjectRecord, ...]
    trajectory: Trajectory
    keyframes: tuple[Keyframe, ...]
    scene_map: SceneMap
    frame_count: int
    image_size: tuple[int, int] = (0, 0)
    K: np.ndarray = field(default_factory=lambda: np.eye(3))
    removed: tuple[ObjectRecord, ...] = ()
    """Objects seen gone (status "removed"): not in `objects`, kept for questions about the past."""

    @property
    def stream_frames(self) -> int:
        """Frames of the stream up to the last integrated one, counting those dropped on the way:
        questions number frames 1..stream_frames in stream order, not in integration order."""
        return int(self.trajectory.frame_indices[-1]) + 1 if len(self.trajectory) else 0

    def label_counts(self) -> Counter:
        """How many objects the memory holds per label."""
        return Counter(obj.label for obj in self.objects)

    def object_by_id(self, object_id: int) -> ObjectRecord:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")
