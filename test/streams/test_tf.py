"""The ROS-free tf buffer against ground-truth motion, with rosbags' own TFMessage type."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore
from scipy.spatial.transform import Rotation

from reasmory_ros.streams.tf import (
    DisconnectedError,
    ExtrapolationError,
    GapError,
    TfBuffer,
    TfPoses,
    UnknownFrameError,
    fixed_frame,
)

TYPES = get_typestore(Stores.ROS2_HUMBLE).types
S = 1_000_000_000


def matrix(translation, rotvec):
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec(rotvec).as_matrix()
    T[:3, 3] = translation
    return T


def base_pose(t: float) -> np.ndarray:
    """odom <- base_link: constant speed along a line and constant yaw rate (slerp is exact)."""
    return matrix([0.5 * t, 0.2 * t, 0.0], [0.0, 0.0, 0.3 * t])


MOUNT = matrix([0.2, 0.0, 0.4], [0.0, 0.2, 0.0])  # base_link <- camera_link
OPTICAL = matrix([0.0, 0.015, 0.0], Rotation.from_euler("zyx", [-90, 0, -90], degrees=True).as_rotvec())


def message(*transforms):
    """A tf2_msgs/TFMessage of (parent, child, stamp_ns, T)."""
    items = []
    for parent, child, stamp, T in transforms:
        qx, qy, qz, qw = Rotation.from_matrix(T[:3, :3]).as_quat()
        header = TYPES["std_msgs/msg/Header"](
            stamp=TYPES["builtin_interfaces/msg/Time"](sec=stamp // S, nanosec=stamp % S), frame_id=parent)
        transform = TYPES["geometry_msgs/msg/Transform"](
            translation=TYPES["geometry_msgs/msg/Vector3"](x=T[0, 3], y=T[1, 3], z=T[2, 3]),
            rotation=TYPES["geometry_msgs/msg/Quaternion"](x=qx, y=qy, z=qz, w=qw))
        items.append(TYPES["geometry_msgs/msg/TransformStamped"](header=header, child_frame_id=child,
                                                                  transform=transform))
    return TYPES["tf2_msgs/msg/TFMessage"](transforms=items)


ODOMETRY_STAMPS_S = np.arange(0.0, 2.01, 0.1)


def robot_buffer(stamps_s=ODOMETRY_STAMPS_S) -> TfBuffer:
    buffer = TfBuffer()
    buffer.add_message(message(("map", "odom", 0, matrix([1.0, -2.0, 0.0], [0, 0, 0.5])),
                               ("base_link", "camera_link", 0, MOUNT),
                               ("camera_link", "camera_color_optical_frame", 0, OPTICAL)), static=True)
    for t in stamps_s:
        buffer.add_message(message(("odom", "base_link", int(round(t * S)), base_pose(t))))
    return buffer


def truth(t: float) -> np.ndarray:
    return matrix([1.0, -2.0, 0.0], [0, 0, 0.5]) @ base_pose(t) @ MOUNT @ OPTICAL


@pytest.mark.parametrize("t", [0.0, 0.3, 0.37, 1.234, 2.0])
def test_chain_lookup_interpolates_between_samples(t):
    buffer = robot_buffer()
    T = buffer.lookup("map", "camera_color_optical_frame", int(round(t * S)))
    np.testing.assert_allclose(T, truth(t), atol=1e-9)


def test_lookup_through_a_common_ancestor_and_back():
    buffer = robot_buffer()
    stamp = int(0.55 * S)
    forward = buffer.lookup("camera_color_optical_frame", "odom", stamp)
    np.testing.assert_allclose(forward @ buffer.lookup("odom", "camera_color_optical_frame", stamp), np.eye(4),
                               atol=1e-9)
    np.testing.assert_allclose(buffer.lookup("camera_link", "base_link", stamp), np.linalg.inv(MOUNT), atol=1e-12)


def test_refusals_name_the_problem():
    buffer = robot_buffer(stamps_s=[0.0, 0.1, 0.2, 1.5, 1.6])
    buffer.set_transform("world", "other_robot", 0, np.eye(4), static=True)
    with pytest.raises(ExtrapolationError, match="future") as future:
        buffer.lookup("map", "camera_color_optical_frame", int(1.7 * S))
    assert future.value.future
    buffer_late = robot_buffer(stamps_s=[1.0, 1.1])
    with pytest.raises(ExtrapolationError, match="past") as past:
        buffer_late.lookup("map", "camera_color_optical_frame", int(0.5 * S))
    assert not past.value.future
    with pytest.raises(GapError, match="no data from 0.200 to 1.500"):
        buffer.lookup("map", "camera_color_optical_frame", int(1.0 * S))
    with pytest.raises(DisconnectedError, match="not connected"):
        buffer.lookup("map", "other_robot", 0)
    with pytest.raises(UnknownFrameError, match="'nowhere' does not exist"):
        buffer.lookup("map", "nowhere", 0)


def test_bad_transforms_are_refused_and_the_rest_kept():
    msg = message(("odom", "base_link", 0, np.eye(4)))
    msg.transforms[0].transform.rotation.w = 0.0  # all-zero quaternion
    msg.transforms.append(message(("base_link", "camera_link", 0, MOUNT)).transforms[0])
    buffer = TfBuffer()
    problems = buffer.add_message(msg, static=True)
    assert len(problems) == 1 and "odom <- base_link" in problems[0]
    np.testing.assert_allclose(buffer.lookup("base_link", "camera_link", 0), MOUNT)


def test_history_is_bounded_by_the_cache_time():
    buffer = TfBuffer(cache_time=1.0)
    for t in np.arange(0.0, 5.0, 0.1):
        buffer.set_transform("odom", "base_link", int(round(t * S)), base_pose(t))
    with pytest.raises(ExtrapolationError, match="past"):
        buffer.lookup("odom", "base_link", int(3.5 * S))
    np.testing.assert_allclose(buffer.lookup("odom", "base_link", int(4.25 * S)), base_pose(4.25), atol=1e-9)


def test_fixed_frame_is_map_else_odom():
    buffer = TfBuffer()
    buffer.set_transform("odom", "base_link", 0, np.eye(4))
    assert fixed_frame(buffer, "map") == "odom"
    buffer.set_transform("map", "odom", 0, np.eye(4), static=True)
    assert fixed_frame(buffer, "map") == "map"


def test_poses_wait_for_later_tf_and_refuse_what_never_comes():
    poses, refused = [], []
    source = TfPoses("map", "", pose=lambda stamp, T: [(stamp, T)],
                     refuse=lambda reason, message: refused.append((reason, message)), wait=0.5)
    static = message(("map", "odom", 0, np.eye(4)), ("base_link", "camera_link", 0, MOUNT),
                     ("camera_link", "optical", 0, OPTICAL))
    poses += source.add_tf(static, static=True, now=0.0)
    poses += source.add_tf(message(("odom", "base_link", 0, base_pose(0.0))), static=False, now=0.0)
    # the image comes before the odometry sample after its stamp: it waits for it
    poses += source.request(int(0.05 * S), "optical", now=0.05)
    assert poses == []
    poses += source.add_tf(message(("odom", "base_link", int(0.1 * S), base_pose(0.1))), static=False, now=0.1)
    assert [stamp for stamp, _ in poses] == [int(0.05 * S)]
    np.testing.assert_allclose(poses[0][1], base_pose(0.05) @ MOUNT @ OPTICAL, atol=1e-9)
    # odometry stops: the next image waits `wait` seconds of stream time, then is refused
    poses += source.request(int(0.2 * S), "optical", now=0.2)
    poses += source.update(now=0.6)
    assert len(poses) == 1 and refused == []
    poses += source.update(now=0.8)
    assert [reason for reason, _ in refused] == ["extrapolation"]
    assert "0.200 s" in refused[0][1] and source.refused == {"extrapolation": 1}
    # an image in an unknown frame is refused at the end of the stream
    source.request(int(0.1 * S), "elsewhere", now=0.9)
    assert source.finish() == [] and source.refused["unknown frame"] == 1
