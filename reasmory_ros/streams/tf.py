"""A ROS-free tf buffer: poses from `/tf` + `/tf_static` where tf2_ros is not installed.

Follows tf2's model: a tree of frames, each child with one parent; static transforms hold at every
time, dynamic ones are interpolated between the two samples around the lookup time (linear
translation, slerp rotation) and never extrapolated. A lookup walks both frames up to their
common ancestor. Two refusals go beyond tf2, so that a dropped odometry link costs only the
frames it touches: samples further apart than `max_gap` are not interpolated across, and history
older than `cache_time` before an edge's newest sample is forgotten (tf2's cache, 10 s).

`TfPoses` turns the buffer into camera poses for a stream of images: an image's pose is looked up
once tf has data up to its stamp (odometry is often stamped after the image and recorded later),
and an image whose pose cannot be found within `wait` seconds of stream time is refused, with
the reason (`extrapolation`, `gap`, `disconnected`, `unknown frame`) counted.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from reasmory_ros.streams.camera import pose_matrix, stamp_ns
from reasmory_ros.streams.errors import PoseError

CACHE_TIME_S = 10.0
"""History kept per dynamic edge (tf2's default cache)."""
MAX_GAP_S = 0.5
"""Largest time between two samples of one edge that a lookup interpolates across."""
FIXED_FRAMES = ("map", "odom")
"""The world frame a pose is looked up in when none is configured: map, else odom (REP 105)."""


class TfError(PoseError):
    """A transform cannot be looked up; `reason` names the kind (for counters)."""

    reason = "tf"


class UnknownFrameError(TfError):
    reason = "unknown frame"


class DisconnectedError(TfError):
    reason = "disconnected"


class ExtrapolationError(TfError):
    reason = "extrapolation"

    def __init__(self, message: str, future: bool):
        super().__init__(message)
        self.future = future
        """True when the lookup time is after the newest sample: more data may still come."""


class GapError(TfError):
    reason = "gap"


@dataclass
class _Edge:
    """The transform parent <- child over time: one entry when static."""

    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)
    translations: list[np.ndarray] = field(default_factory=list)
    rotations: list[np.ndarray] = field(default_factory=list)  # quaternions x y z w


def _matrix(translation: np.ndarray, quaternion: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(quaternion).as_matrix()
    T[:3, 3] = translation
    return T


class TfBuffer:
    """Transforms between frames of one tree, by time. Not thread-safe: the node serialises calls."""

    def __init__(self, cache_time: float = CACHE_TIME_S, max_gap: float = MAX_GAP_S):
        if cache_time <= 0 or max_gap <= 0:
            raise ValueError("cache_time and max_gap must be > 0")
        self._cache_ns = int(cache_time * 1e9)
        self._max_gap_ns = int(max_gap * 1e9)
        self._edges: dict[str, _Edge] = {}  # child -> edge to its parent

    # --- filling --------------------------------------------------------------------------------
    def set_transform(self, parent: str, child: str, stamp: int, T: np.ndarray, static: bool = False) -> None:
        """Record T = parent <- child at `stamp` (ns). A child that changes parent starts afresh."""
        parent, child = parent.lstrip("/"), child.lstrip("/")
        if not parent or not child or parent == child:
            raise TfError(f"invalid transform '{parent}' <- '{child}': frames must be distinct and named")
        T = np.asarray(T, dtype=np.float64)
        edge = self._edges.get(child)
        if edge is None or edge.parent != parent or edge.static != static:
            edge = self._edges[child] = _Edge(parent, static)
        translation, quaternion = T[:3, 3].copy(), Rotation.from_matrix(T[:3, :3]).as_quat()
        if static:
            edge.stamps, edge.translations, edge.rotations = [stamp], [translation], [quaternion]
            return
        at = bisect.bisect_left(edge.stamps, stamp)
        if at < len(edge.stamps) and edge.stamps[at] == stamp:  # a re-sent sample replaces the old one
            edge.translations[at], edge.rotations[at] = translation, quaternion
            return
        edge.stamps.insert(at, stamp)
        edge.translations.insert(at, translation)
        edge.rotations.insert(at, quaternion)
        expired = bisect.bisect_left(edge.stamps, edge.stamps[-1] - self._cache_ns)
        if expired:
            del edge.stamps[:expired], edge.translations[:expired], edge.rotations[:expired]

    def add_message(self, msg, static: bool = False) -> list[str]:
        """Every TransformStamped of a tf2_msgs/TFMessage (rclpy or rosbags); returns the problems
        of the transforms refused (bad quaternion, unnamed frame), the others are kept."""
        problems = []
        for transform in msg.transforms:
            try:
                self.set_transform(transform.header.frame_id, transform.child_frame_id,
                                   stamp_ns(transform.header.stamp), pose_matrix(transform), static)
            except PoseError as err:
                problems.append(f"{transform.header.frame_id} <- {transform.child_frame_id}: {err}")
        return problems

    # --- queries --------------------------------------------------------------------------------
    @property
    def frames(self) -> set[str]:
        return set(self._edges) | {edge.parent for edge in self._edges.values()}

    def edges(self) -> list[tuple[str, str, bool]]:
        """(parent, child, static) of every edge, sorted: what `--inspect` prints as the tree."""
        return sorted((edge.parent, child, edge.static) for child, edge in self._edges.items())

    def root(self, frame: str) -> str:
        """The root of the tree `frame` belongs to (itself when it has no parent)."""
        return self._ancestry(frame.lstrip("/"))[-1]

    def can_transform(self, target: str, source: str, stamp: int) -> bool:
        try:
            self.lookup(target, source, stamp)
        except TfError:
            return False
        return True

    def lookup(self, target: str, source: str, stamp: int) -> np.ndarray:
        """4 x 4 T_target_source at `stamp` (ns): maps points in `source` to `target`."""
        target, source = target.lstrip("/"), source.lstrip("/")
        for name in (target, source):
            if name not in self.frames:
                known = ", ".join(sorted(self.frames)) or "none yet"
                raise UnknownFrameError(f"frame '{name}' does not exist in the tf tree (frames: {known})")
        up_source, up_target = self._ancestry(source), self._ancestry(target)
        common = next((frame for frame in up_source if frame in set(up_target)), None)
        if common is None:
            raise DisconnectedError(
                f"frames '{target}' and '{source}' are not connected: their tf trees have the roots "
                f"'{up_target[-1]}' and '{up_source[-1]}'")
        T_common_source = self._chain(up_source[: up_source.index(common)], stamp)
        T_common_target = self._chain(up_target[: up_target.index(common)], stamp)
        return np.linalg.inv(T_common_target) @ T_common_source

    def _ancestry(self, frame: str) -> list[str]:
        """`frame` and its ancestors up to the root."""
        chain = [frame]
        while chain[-1] in self._edges:
            parent = self._edges[chain[-1]].parent
            if parent in chain:
                raise TfError(f"the tf tree has a loop through '{parent}'")
            chain.append(parent)
        return chain

    def _chain(self, children: list[str], stamp: int) -> np.ndarray:
        """parent-most <- first child, composing each child's edge at `stamp`."""
        T = np.eye(4)
        for child in children:
            T = self._at(child, stamp) @ T
        return T

    def _at(self, child: str, stamp: int) -> np.ndarray:
        edge = self._edges[child]
        if edge.static:
            return _matrix(edge.translations[0], edge.rotations[0])
        stamps = edge.stamps
        name = f"'{edge.parent}' <- '{child}'"
        at = bisect.bisect_left(stamps, stamp)
        if at < len(stamps) and stamps[at] == stamp:
            return _matrix(edge.translations[at], edge.rotations[at])
        if at == 0 or at == len(stamps):
            future = at == len(stamps)
            raise ExtrapolationError(
                f"lookup of {name} at {stamp * 1e-9:.3f} s would extrapolate into the "
                f"{'future' if future else 'past'}: its data spans {stamps[0] * 1e-9:.3f} to "
                f"{stamps[-1] * 1e-9:.3f} s", future=future)
        before, after = stamps[at - 1], stamps[at]
        if after - before > self._max_gap_ns:
            raise GapError(
                f"{name} has no data from {before * 1e-9:.3f} to {after * 1e-9:.3f} s "
                f"({(after - before) * 1e-9:.3f} s > the {self._max_gap_ns * 1e-9:g} s interpolated across)")
        alpha = (stamp - before) / (after - before)
        translation = (1 - alpha) * edge.translations[at - 1] + alpha * edge.translations[at]
        ends = Rotation.from_quat([edge.rotations[at - 1], edge.rotations[at]])
        step = (ends[0].inv() * ends[1]).as_rotvec()
        rotation = ends[0] * Rotation.from_rotvec(alpha * step)  # slerp
        return _matrix(translation, rotation.as_quat())


def fixed_frame(buffer: TfBuffer, configured: str) -> str:
    """The world frame of poses: the configured one if tf knows it, else map, else odom."""
    frames = buffer.frames
    if configured in frames:
        return configured
    return next((frame for frame in FIXED_FRAMES if frame in frames), configured)


@dataclass
class _Request:
    stamp: int
    frame: str
    arrived: float


class TfPoses:
    """Camera poses of images from a `TfBuffer`, resolved as tf data comes in (see the module doc).

    `pose(stamp, T)` receives each resolved pose (T = world <- camera optical frame) and returns a
    list (the frames it completes); `refuse(reason, message)` is called for each image whose pose
    cannot be found. Both are called in stamp order.
    """

    def __init__(self, world_frame: str, camera_frame: str, pose: Callable[[int, np.ndarray], object],
                 refuse: Callable[[str, str], None], wait: float = 1.0, buffer: TfBuffer | None = None):
        self.buffer = buffer or TfBuffer()
        self.world_frame = world_frame
        self.camera_frame = camera_frame
        self._pose = pose
        self._refuse = refuse
        self._wait = float(wait)
        self._requests: list[_Request] = []
        self.refused: Counter = Counter()

    def add_tf(self, msg, static: bool, now: float) -> list:
        """A TFMessage arrived at stream time `now` (s): returns the concatenated lists `pose`
        returned for the images whose poses it resolves. Bad transforms inside it are refused as `bad transform`."""
        for problem in self.buffer.add_message(msg, static):
            self._refuse("bad transform", problem)
        return self.update(now)

    def request(self, stamp: int, frame_id: str, now: float) -> list:
        """An image stamped `stamp` in optical frame `frame_id` (used unless camera_frame is set)."""
        self._requests.append(_Request(stamp, self.camera_frame or frame_id, now))
        return self.update(now)

    def update(self, now: float, final: bool = False) -> list:
        """Resolve what can be resolved; refuse what waited longer than `wait` (all when final)."""
        results, waiting = [], []
        world = fixed_frame(self.buffer, self.world_frame)
        for request in sorted(self._requests, key=lambda r: r.stamp):
            try:
                T = self.buffer.lookup(world, request.frame, request.stamp)
            except TfError as err:
                more_may_come = isinstance(err, (UnknownFrameError, DisconnectedError)) or (
                    isinstance(err, ExtrapolationError) and err.future)
                if more_may_come and not final and now - request.arrived <= self._wait:
                    waiting.append(request)
                else:
                    self.refused[err.reason] += 1
                    self._refuse(err.reason, f"no pose for the image stamped {request.stamp * 1e-9:.3f} s "
                                             f"({world} <- {request.frame}): {err}")
                continue
            results.extend(self._pose(request.stamp, T))
        self._requests = waiting
        return results

    def finish(self) -> list:
        """The end of a stream: what can still be resolved, the rest refused."""
        return self.update(float("inf"), final=True)

