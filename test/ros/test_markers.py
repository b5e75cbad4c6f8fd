"""Markers and point clouds built from a known snapshot and answer (message building, no DDS)."""

from __future__ import annotations

import numpy as np
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from reasmory_ros.dsl import CameraMark, Segment, Touched, ViewMark
from reasmory_ros.memory.snapshot import ObjectRecord
from reasmory_ros.ros import markers as m
from reasmory_ros.ros.pointcloud import pointcloud2, points_and_colors


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
