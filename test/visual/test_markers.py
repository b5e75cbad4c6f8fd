"""Markers, paths and point clouds built from a known snapshot and answer (ROS-free descriptions),
and their conversion to the node's rclpy messages."""

from __future__ import annotations

import numpy as np
import pytest

from reasmory_ros.dsl import CameraMark, Segment, Touched, ViewMark
from reasmory_ros.memory.snapshot import ObjectRecord, Trajectory
from reasmory_ros.streams.camera import rotation_from_quaternion
from reasmory_ros.visual import markers as m
from reasmory_ros.visual.messages import Header, Marker, Time
from reasmory_ros.visual.pointcloud import pointcloud2, points_and_colors


def record(object_id, label, center, extent=(1.0, 0.5, 0.8), yaw=0.0):
    return ObjectRecord(
        id=object_id,
        label=label,
        label_histogram={label: 1.0},
        center=np.array(center, float),
        extent=np.array(extent, float),
        yaw=yaw,
        points=np.zeros((0, 3)),
        first_seen_frame=0,
        first_seen_time=0.0,
        last_seen_frame=0,
        last_seen_time=0.0,
        observations=3,
    )


OBJECTS = (record(4, "sofa", (1.0, 2.0, 0.4)), record(9, "tv", (4.0, 2.0, 1.0), yaw=0.5))
FACTORY = m.MarkerFactory(Header(frame_id="map"), lifetime=2.5)


def test_objects_are_boxes_and_labels_with_stable_ids():
    markers = m.object_markers(OBJECTS, FACTORY)
    boxes = [k for k in markers if k.ns == m.NS_OBJECTS]
    labels = [k for k in markers if k.ns == m.NS_LABELS]
    assert [b.id for b in boxes] == [4, 9] and [t.id for t in labels] == [4, 9]
    assert all(b.type == Marker.LINE_LIST and len(b.points) == 24 for b in boxes)
    assert labels[0].type == Marker.TEXT_VIEW_FACING and labels[0].text == "sofa #4"
    assert labels[0].pose.position.z > OBJECTS[0].center[2] + OBJECTS[0].extent[2] / 2
    corners = {(round(p.x, 6), round(p.y, 6), round(p.z, 6)) for p in boxes[1].points}
    assert corners == {tuple(np.round(c, 6)) for c in OBJECTS[1].corners()}
    assert all(
        k.header.frame_id == "map" and k.lifetime.sec == 2 and k.lifetime.nanosec == 500_000_000 for k in markers
    )
    assert m.label_color("sofa") == m.label_color("sofa") and m.label_color("sofa") != m.label_color("tv")


def test_answer_geometry_comes_from_what_the_program_touched():
    pose = np.eye(4)
    pose[:3, 3] = (0.5, 0.5, 1.2)
    touched = Touched(
        object_ids=(4, 9, 77),  # 77 is no longer in the memory: skipped
        cameras=(CameraMark(frame=3, pose=pose),),
        views=(ViewMark(position=np.array([1.0, 1.0, 0.0]), heading=np.pi / 2),),
        segments=(Segment(np.array([1.5, 2.0, 0.4]), np.array([3.5, 2.0, 0.4])),),
        directions=(Segment(np.array([1.0, 1.0, 0.0]), np.array([4.0, 2.0, 1.0])),),
        paths=(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]),),
        points=(np.array([2.0, 2.0, 0.0]),),
    )
    markers = m.answer_markers(touched, OBJECTS, FACTORY, caption="2 m")
    by_ns = {}
    for marker in markers:
        by_ns.setdefault(marker.ns, []).append(marker)
    assert [k.id for k in by_ns[m.NS_ANSWER_OBJECTS]] == [4, 9]
    line, text = by_ns[m.NS_DISTANCES]
    assert line.type == Marker.LINE_LIST and text.text == "2.00 m"
    assert by_ns[m.NS_DIRECTIONS][0].type == Marker.ARROW and len(by_ns[m.NS_DIRECTIONS][0].points) == 2
    view = by_ns[m.NS_VIEWS][0]
    forward = np.array([view.points[1].x - view.points[0].x, view.points[1].y - view.points[0].y])
    np.testing.assert_allclose(forward / np.linalg.norm(forward), [0.0, 1.0], atol=1e-12)  # heading 90 deg = +y
    assert [(c.r, c.g, c.b) for c in view.colors[::2]] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]  # x y z = r g b
    assert by_ns[m.NS_CAMERAS][1].text == "frame 3"
    assert by_ns[m.NS_ROUTES][0].type == Marker.LINE_STRIP and len(by_ns[m.NS_ROUTES][0].points) == 3
    assert by_ns[m.NS_POINTS][0].type == Marker.SPHERE
    assert by_ns[m.NS_ANSWER_TEXT][0].text == "2 m"


def test_place_answers_show_a_position_arrow_and_a_goal_pose():
    goal = ViewMark(position=np.array([2.5, 2.0, 0.0]), heading=np.pi)
    touched = Touched(object_ids=(9,), positions=(OBJECTS[1].center,), goals=(goal,),
                      paths=(np.array([[0.0, 0.0, 1.5], [0.5, 0.2, 1.5]]),))
    by_ns = {}
    for marker in m.answer_markers(touched, OBJECTS, FACTORY):
        by_ns.setdefault(marker.ns, []).append(marker)
    arrow = by_ns[m.NS_POSITIONS][0]
    start, end = (np.array([p.x, p.y, p.z]) for p in arrow.points)
    top = OBJECTS[1].center[2] + OBJECTS[1].extent[2] / 2
    np.testing.assert_allclose(end, [*OBJECTS[1].center[:2], top])  # points down onto the object's top
    assert start[2] > end[2] and np.allclose(start[:2], end[:2])
    pose_arrow, caption = by_ns[m.NS_GOALS]
    q = pose_arrow.pose.orientation
    assert pose_arrow.type == Marker.ARROW and caption.text == "goal"
    assert (q.z, q.w) == pytest.approx((1.0, 0.0), abs=1e-12)  # heading pi: facing -x
    assert by_ns[m.NS_ROUTES][0].type == Marker.LINE_STRIP  # a walked path
    assert [k.id for k in by_ns[m.NS_ANSWER_OBJECTS]] == [9]


def test_marker_array_replaces_the_previous_set():
    array = m.marker_array(m.object_markers(OBJECTS, FACTORY), FACTORY.header)
    assert array.markers[0].action == Marker.DELETEALL and array.markers[0].header.frame_id == "map"
    assert all(k.action == Marker.ADD for k in array.markers[1:])


def test_pointcloud_packs_rgb_like_pcl():
    points = np.array([[0.0, 1.0, 2.0], [3.0, -4.0, 5.5]], np.float32)
    colors = np.array([[255, 0, 0], [1, 2, 3]], np.uint8)
    cloud = pointcloud2(points, colors, Header(frame_id="map"))
    assert (cloud.width, cloud.height, cloud.point_step, len(cloud.data)) == (2, 1, 16, 32)
    assert [f.name for f in cloud.fields] == ["x", "y", "z", "rgb"]
    assert np.frombuffer(bytes(cloud.data), np.uint32)[3] == 0x00FF0000
    back_points, back_colors = points_and_colors(cloud)
    np.testing.assert_array_equal(back_points, points)
    np.testing.assert_array_equal(back_colors, colors)
    assert pointcloud2(np.zeros((0, 3)), np.zeros((0, 3), np.uint8), Header()).width == 0


def _trajectory(n=5):
    poses = np.repeat(np.eye(4)[None], n, axis=0)
    for i in range(n):
        c, s = np.cos(0.3 * i), np.sin(0.3 * i)
        poses[i, :3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
        poses[i, :3, 3] = (0.5 * i, 0.1 * i, 1.2)
    return Trajectory(frame_indices=np.arange(n), timestamps=100.0 + 0.1 * np.arange(n), poses=poses)


def test_camera_path_has_every_pose_with_its_stamp_and_rotation():
    trajectory = _trajectory()
    path = m.camera_path(trajectory, Header(stamp=Time(sec=7), frame_id="map"))
    assert path.header.frame_id == "map" and len(path.poses) == 5
    for stamped, stamp, pose in zip(path.poses, trajectory.timestamps, trajectory.poses):
        assert stamped.header.stamp.sec + 1e-9 * stamped.header.stamp.nanosec == pytest.approx(stamp, abs=1e-9)
        q = stamped.pose.orientation
        np.testing.assert_allclose(rotation_from_quaternion(q.x, q.y, q.z, q.w), pose[:3, :3], atol=1e-12)
        p = stamped.pose.position
        np.testing.assert_allclose([p.x, p.y, p.z], pose[:3, 3])
    strip = m.trajectory_marker(trajectory, FACTORY)
    assert [(k.ns, k.type, len(k.points)) for k in strip] == [(m.NS_TRAJECTORY, Marker.LINE_STRIP, 5)]
    assert m.trajectory_marker(_trajectory(1), FACTORY) == []


def test_a_long_path_is_thinned_evenly_and_keeps_its_ends():
    keep = m.path_indices(10_001, limit=1000)
    assert len(keep) <= 1000 and keep[0] == 0 and keep[-1] == 10_000
    assert np.ptp(np.diff(keep)) <= 1  # even spacing
    np.testing.assert_array_equal(m.path_indices(7, limit=1000), np.arange(7))
    long = _trajectory(m.PATH_MAX_POSES + 500)
    path = m.camera_path(long, Header(frame_id="map"))
    assert len(path.poses) <= m.PATH_MAX_POSES and path.poses[-1].pose.position.x == long.poses[-1, 0, 3]
    assert len(m.trajectory_marker(long, FACTORY)[0].points) == len(path.poses)


def test_the_node_gets_the_same_content_as_rclpy_messages():
    pytest.importorskip("rclpy")
    from nav_msgs.msg import Path
    from sensor_msgs.msg import PointCloud2
    from visualization_msgs.msg import MarkerArray

    from reasmory_ros.ros.markers import to_msg

    description = m.marker_array(m.object_markers(OBJECTS, FACTORY) + m.trajectory_marker(_trajectory(), FACTORY),
                                 FACTORY.header)
    array = to_msg(description)
    assert isinstance(array, MarkerArray) and len(array.markers) == len(description.markers) == 6
    for msg, spec in zip(array.markers, description.markers):
        assert (msg.ns, msg.id, msg.type, msg.action, msg.text) == (spec.ns, spec.id, spec.type, spec.action, spec.text)
        assert [(p.x, p.y, p.z) for p in msg.points] == [(p.x, p.y, p.z) for p in spec.points]
        assert (msg.lifetime.sec, msg.lifetime.nanosec) == (spec.lifetime.sec, spec.lifetime.nanosec)
        assert msg.header.frame_id == "map" and (msg.color.g, msg.scale.x) == (spec.color.g, spec.scale.x)
    path = to_msg(m.camera_path(_trajectory(), FACTORY.header))
    assert isinstance(path, Path) and path.poses[3].header.stamp.sec == 100
    cloud = to_msg(pointcloud2(np.ones((3, 3)), np.full((3, 3), 7, np.uint8), FACTORY.header))
    assert isinstance(cloud, PointCloud2)
    np.testing.assert_array_equal(points_and_colors(cloud)[1], np.full((3, 3), 7))


def test_changes_show_an_old_to_new_arrow_and_removed_boxes_in_grey():
    import dataclasses

    from reasmory_ros.memory.snapshot import MemorySnapshot, Placement, SceneMap

    old = np.array([0.0, 0.0, 0.4])
    moved = dataclasses.replace(OBJECTS[0], placements=(Placement(old, np.ones(3), 0.0, 0, 9, 0.0, 0.9),),
                                placed_frame=20)
    gone = dataclasses.replace(OBJECTS[1], status="removed", gone_since_frame=30)
    snapshot = MemorySnapshot(objects=(moved,), removed=(gone,), trajectory=Trajectory(
        np.zeros(0, int), np.zeros(0), np.zeros((0, 4, 4))), keyframes=(), scene_map=SceneMap.empty(0.05),
        frame_count=40)
    markers = m.change_markers(snapshot, FACTORY)
    (arrow,) = [k for k in markers if k.ns == m.NS_MOVED and k.type == Marker.ARROW]
    assert arrow.id == moved.id
    assert [(p.x, p.y, p.z) for p in arrow.points] == [tuple(old), tuple(moved.center)]
    (box,) = [k for k in markers if k.ns == m.NS_REMOVED and k.type == Marker.LINE_LIST]
    assert box.id == gone.id and box.color.r == box.color.g == box.color.b
    assert any(k.text == "tv #9 gone" for k in markers)
    shown = m.memory_markers(snapshot, FACTORY).markers
    assert {k.ns for k in shown} >= {m.NS_OBJECTS, m.NS_MOVED, m.NS_REMOVED}
    assert not [k for k in shown if k.ns == m.NS_OBJECTS and k.id == gone.id]  # gone: not a live box
