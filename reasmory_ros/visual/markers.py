"""Memory snapshot + DSL answer -> the markers of ~/markers (visualization_msgs/MarkerArray), ROS-free.

Conventions (the marker contract of docs/design.md): `ns` + `id` identify a marker and ids are
stable (an object's marker id is its memory id, so RViz updates it in place); every marker has an
explicit frame_id and lifetime; a published set starts with DELETEALL so markers of vanished
objects never linger. The node converts these descriptions to rclpy messages (ros/markers.py),
the replay recorder to rosbags messages (replay/record.py).
The answer's geometry comes from what the program touched (`dsl.Touched`), not from re-reading
the question: the markers show exactly what was measured.
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Iterable

import numpy as np
from scipy.spatial.transform import Rotation

from reasmory_ros.dsl import Touched
from reasmory_ros.memory.snapshot import MemorySnapshot, ObjectRecord, Trajectory
from reasmory_ros.visual.messages import (
    ColorRGBA,
    Duration,
    Header,
    Marker,
    MarkerArray,
    Path,
    Point,
    Pose,
    PoseStamped,
    Quaternion,
    Time,
    Vector3,
)

NS_OBJECTS = "objects"
NS_LABELS = "labels"
NS_ANSWER_OBJECTS = "answer"
NS_ANSWER_TEXT = "answer_text"
NS_DISTANCES = "answer_distances"
NS_DIRECTIONS = "answer_directions"
NS_VIEWS = "answer_views"
NS_CAMERAS = "answer_cameras"
NS_ROUTES = "answer_routes"
NS_POINTS = "answer_points"
NS_MOVED = "changes_moved"
NS_REMOVED = "changes_removed"
NS_TRAJECTORY = "trajectory"
NS_POSITIONS = "answer_positions"
NS_GOALS = "answer_goals"
POSITION_ARROW = 0.6
"""m: a place answer's arrow points down onto the position from this far above the object."""
PATH_MAX_POSES = 1000
"""Poses in ~/path and the trajectory strip at most: a long run's path stays cheap to build and send."""

# Box edges as corner index pairs (corners: bottom four then top four, see ObjectRecord.corners).
_BOX_EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
HIGHLIGHT = (1.0, 0.85, 0.0, 1.0)
TEXT_HEIGHT = 0.15
"""m: height of capital letters of text markers."""


def _color(r: float, g: float, b: float, a: float = 1.0) -> ColorRGBA:
    return ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a))


def label_color(label: str) -> ColorRGBA:
    """A saturated colour per label, the same in every process (crc32, not Python's hash)."""
    hue = (zlib.crc32(label.encode("utf-8")) % 360) / 360.0
    return _color(*colorsys.hsv_to_rgb(hue, 0.75, 0.95))


def _point(xyz) -> Point:
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


class MarkerFactory:
    """Builds markers sharing one header and lifetime (seconds, 0 = until replaced)."""

    def __init__(self, head: Header, lifetime: float = 0.0):
        self.header = head
        seconds = max(float(lifetime), 0.0)
        self.lifetime = Duration(sec=int(seconds), nanosec=int(round((seconds % 1.0) * 1e9)) % 1_000_000_000)

    def marker(self, ns: str, marker_id: int, kind: int, color: ColorRGBA, scale=(1.0, 1.0, 1.0)) -> Marker:
        m = Marker(
            header=self.header,
            ns=ns,
            id=int(marker_id),
            type=kind,
            action=Marker.ADD,
            lifetime=self.lifetime,
            frame_locked=False,
        )
        m.pose.orientation.w = 1.0
        m.scale = Vector3(x=float(scale[0]), y=float(scale[1]), z=float(scale[2]))
        m.color = color
        return m

    def box(self, ns: str, obj: ObjectRecord, color: ColorRGBA, width: float) -> Marker:
        m = self.marker(ns, obj.id, Marker.LINE_LIST, color, (width, 0.0, 0.0))
        corners = obj.corners()
        m.points = [_point(corners[i]) for edge in _BOX_EDGES for i in edge]
        return m

    def text(self, ns: str, marker_id: int, text: str, position, color: ColorRGBA = None) -> Marker:
        m = self.marker(ns, marker_id, Marker.TEXT_VIEW_FACING, color or _color(1, 1, 1), (0.0, 0.0, TEXT_HEIGHT))
        m.pose.position = _point(position)
        m.text = text
        return m

    def line(self, ns: str, marker_id: int, kind: int, points: Iterable, color: ColorRGBA, width: float) -> Marker:
        m = self.marker(ns, marker_id, kind, color, (width, 0.0, 0.0))
        m.points = [_point(p) for p in points]
        return m

    def arrow(self, ns: str, marker_id: int, start, end, color: ColorRGBA) -> Marker:
        m = self.marker(ns, marker_id, Marker.ARROW, color, (0.03, 0.07, 0.12))
        m.points = [_point(start), _point(end)]
        return m

    def axes(self, ns: str, marker_id: int, origin, rotation: np.ndarray, length: float = 0.4) -> Marker:
        """x red, y green, z blue: one LINE_LIST with per-vertex colours."""
        m = self.marker(ns, marker_id, Marker.LINE_LIST, _color(1, 1, 1), (0.03, 0.0, 0.0))
        origin = np.asarray(origin, dtype=np.float64)
        rgb = [_color(1, 0, 0), _color(0, 1, 0), _color(0, 0, 1)]
        for axis in range(3):
            m.points += [_point(origin), _point(origin + length * rotation[:, axis])]
            m.colors += [rgb[axis], rgb[axis]]
        return m


def object_markers(objects: Iterable[ObjectRecord], factory: MarkerFactory) -> list[Marker]:
    """Every object as a wireframe box (ns objects) and a label above it (ns labels), id = object id."""
    markers = []
    for obj in objects:
        color = label_color(obj.label)
        markers.append(factory.box(NS_OBJECTS, obj, color, 0.015))
        top = np.asarray(obj.center, dtype=np.float64) + [0.0, 0.0, obj.extent[2] / 2 + TEXT_HEIGHT]
        markers.append(factory.text(NS_LABELS, obj.id, f"{obj.label} #{obj.id}", top, color))
    return markers


def path_indices(length: int, limit: int = PATH_MAX_POSES) -> np.ndarray:
    """Indices of the poses a path shows: all of them up to `limit`, else evenly thinned, always
    with the first and the latest pose."""
    if length <= limit:
        return np.arange(length)
    return np.unique(np.linspace(0, length - 1, limit).round().astype(int))


def trajectory_marker(trajectory: Trajectory, factory: MarkerFactory) -> list[Marker]:
    """The camera path so far as one green line strip (ns trajectory, id 0); none before two poses."""
    if len(trajectory) < 2:
        return []
    positions = trajectory.poses[path_indices(len(trajectory)), :3, 3]
    return [factory.line(NS_TRAJECTORY, 0, Marker.LINE_STRIP, positions, _color(0.2, 0.8, 0.2), 0.02)]


def camera_path(trajectory: Trajectory, head: Header) -> Path:
    """The camera poses so far as a nav_msgs/Path, each stamped with its frame's time (at most
    PATH_MAX_POSES of them, evenly thinned)."""
    keep = path_indices(len(trajectory))
    quaternions = Rotation.from_matrix(trajectory.poses[keep, :3, :3]).as_quat() if len(keep) else np.zeros((0, 4))
    stamps = np.round(trajectory.timestamps[keep] * 1e9).astype(np.int64)
    poses = [
        PoseStamped(header=Header(stamp=Time.from_ns(int(stamp)), frame_id=head.frame_id),
                    pose=Pose(position=_point(position), orientation=Quaternion(*map(float, q))))
        for stamp, position, q in zip(stamps, trajectory.poses[keep, :3, 3], quaternions)
    ]
    return Path(header=head, poses=poses)


def answer_markers(
    touched: Touched, objects: Iterable[ObjectRecord], factory: MarkerFactory, caption: str = ""
) -> list[Marker]:
    """What the answer touched: highlighted objects, distances with their length, direction arrows,
    views and cameras as axes, routes and walked paths as line strips, place answers as an arrow
    down onto the position, navigation goals as a pose arrow, points as spheres, and the answer
    text."""
    by_id = {obj.id: obj for obj in objects}
    markers = []
    anchors = []
    for obj_id in touched.object_ids:
        if obj_id in by_id:
            obj = by_id[obj_id]
            markers.append(factory.box(NS_ANSWER_OBJECTS, obj, _color(*HIGHLIGHT), 0.04))
            anchors.append(np.asarray(obj.center) + [0.0, 0.0, obj.extent[2] / 2])
    for i, segment in enumerate(touched.segments):
        start, end = np.asarray(segment.start, float), np.asarray(segment.end, float)
        markers.append(factory.line(NS_DISTANCES, 2 * i, Marker.LINE_LIST, [start, end], _color(0.2, 0.9, 1.0), 0.025))
        middle = (start + end) / 2 + [0.0, 0.0, TEXT_HEIGHT]
        markers.append(factory.text(NS_DISTANCES, 2 * i + 1, f"{np.linalg.norm(end - start):.2f} m", middle))
        anchors.append(middle)
    for i, direction in enumerate(touched.directions):
        markers.append(factory.arrow(NS_DIRECTIONS, i, direction.start, direction.end, _color(1.0, 0.4, 0.1)))
    for i, view in enumerate(touched.views):
        c, s = np.cos(view.heading), np.sin(view.heading)
        facing = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])  # x ahead, y left, z up
        markers.append(factory.axes(NS_VIEWS, i, view.position, facing))
        anchors.append(np.asarray(view.position, float))
    for i, camera in enumerate(touched.cameras):
        pose = np.asarray(camera.pose, float)
        markers.append(factory.axes(NS_CAMERAS, 2 * i, pose[:3, 3], pose[:3, :3], 0.3))
        markers.append(factory.text(NS_CAMERAS, 2 * i + 1, f"frame {camera.frame}", pose[:3, 3] + [0.0, 0.0, 0.2]))
    for i, path in enumerate(touched.paths):
        waypoints = np.asarray(path, float)
        if waypoints.shape[1] == 2:
            waypoints = np.column_stack([waypoints, np.zeros(len(waypoints))])
        markers.append(
            factory.line(NS_ROUTES, i, Marker.LINE_STRIP, waypoints + [0.0, 0.0, 0.05], _color(0.3, 1.0, 0.3), 0.05)
        )
        anchors.append(waypoints[len(waypoints) // 2])
    for i, position in enumerate(touched.positions):
        position = np.asarray(position, float)
        tip = max((o.center[2] + o.extent[2] / 2 for o in by_id.values()
                   if np.allclose(o.center, position)), default=position[2])
        markers.append(factory.arrow(NS_POSITIONS, i, position + [0.0, 0.0, tip - position[2] + POSITION_ARROW],
                                     position + [0.0, 0.0, tip - position[2]], _color(1.0, 0.2, 0.8)))
        anchors.append(position + [0.0, 0.0, tip - position[2] + POSITION_ARROW])
    for i, goal in enumerate(touched.goals):
        m = factory.marker(NS_GOALS, 2 * i, Marker.ARROW, _color(0.1, 0.6, 1.0), (0.5, 0.08, 0.08))
        m.pose.position = _point(goal.position)
        m.pose.orientation.z, m.pose.orientation.w = float(np.sin(goal.heading / 2)), float(np.cos(goal.heading / 2))
        markers.append(m)
        markers.append(factory.text(NS_GOALS, 2 * i + 1, "goal", np.asarray(goal.position, float) + [0.0, 0.0, 0.3]))
    for i, point in enumerate(touched.points):
        markers.append(factory.marker(NS_POINTS, i, Marker.SPHERE, _color(1.0, 0.2, 0.8), (0.1, 0.1, 0.1)))
        markers[-1].pose.position = _point(point)
    if caption:
        where = anchors[0] + [0.0, 0.0, 2 * TEXT_HEIGHT] if anchors else np.array([0.0, 0.0, 2.0])
        markers.append(factory.text(NS_ANSWER_TEXT, 0, caption, where, _color(*HIGHLIGHT)))
    return markers


def marker_array(markers: list[Marker], head: Header) -> MarkerArray:
    """DELETEALL first, then the set: the published set replaces the previous one entirely."""
    clear = Marker(header=head, action=Marker.DELETEALL)
    return MarkerArray(markers=[clear, *markers])


def change_markers(snapshot: MemorySnapshot, factory: MarkerFactory) -> list[Marker]:
    """What changed: an arrow from each moved object's previous place to where it is now (ns
    changes_moved) and each removed object's last box in grey with "gone" (ns changes_removed)."""
    markers = []
    for obj in snapshot.objects:
        if obj.moved:
            before = obj.placements[-1].center
            markers.append(factory.arrow(NS_MOVED, obj.id, before, obj.center, label_color(obj.label)))
            markers.append(factory.text(NS_MOVED, -1 - obj.id, f"{obj.label} #{obj.id} was here",
                                        np.asarray(before) + [0.0, 0.0, TEXT_HEIGHT], label_color(obj.label)))
    grey = _color(0.6, 0.6, 0.6, 0.8)
    for obj in snapshot.removed:
        markers.append(factory.box(NS_REMOVED, obj, grey, 0.01))
        top = np.asarray(obj.center, dtype=np.float64) + [0.0, 0.0, obj.extent[2] / 2 + TEXT_HEIGHT]
        markers.append(factory.text(NS_REMOVED, -1 - obj.id, f"{obj.label} #{obj.id} gone", top, grey))
    return markers


def memory_markers(snapshot, factory: MarkerFactory, answer: tuple[Touched, str] | None = None) -> MarkerArray:
    """Everything ~/markers shows for a snapshot: boxes, labels, the camera path, what changed
    (moved: old -> new arrow; removed: grey box) and the last answer."""
    markers = (object_markers(snapshot.objects, factory) + trajectory_marker(snapshot.trajectory, factory)
               + change_markers(snapshot, factory))
    if answer is not None:
        markers += answer_markers(answer[0], snapshot.objects + snapshot.removed, factory, answer[1])
    return marker_array(markers, factory.header)
