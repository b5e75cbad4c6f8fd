"""Intrinsics and poses from message-like objects: checks, quaternion normalisation, tf shapes."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest

from reasmory_ros.streams import CameraInfoError, PoseError, intrinsics, pose_matrix, quaternion_from_rotation, stamp_ns
from reasmory_ros.streams.camera import rotation_from_quaternion


def test_intrinsics_reads_k_and_size():
    info = intrinsics(NS(k=[500.0, 0, 320, 0, 510, 240, 0, 0, 1], width=640, height=480))
    assert info.K.shape == (3, 3) and info.K[0, 0] == 500 and info.K[1, 2] == 240
    assert (info.width, info.height) == (640, 480)


@pytest.mark.parametrize("width, height", [(640, 480), (0, 0), (640, 0), (0, 480)])
def test_intrinsics_fit_their_image_size_or_an_unset_one(width, height):
    intrinsics(NS(k=[500.0, 0, 320, 0, 510, 240, 0, 0, 1], width=width, height=height)).check_size(640, 480)


def test_intrinsics_for_another_image_size_are_refused():
    info = intrinsics(NS(k=[500.0, 0, 320, 0, 510, 240, 0, 0, 1], width=640, height=480))
    with pytest.raises(CameraInfoError, match="camera_info is for 640x480 images but the color image is 160x120"):
        info.check_size(160, 120)


@pytest.mark.parametrize(
    "k, message",
    [
        ([0.0] * 9, "all zeros: the camera is not calibrated"),
        ([0.0, 0, 320, 0, 510, 240, 0, 0, 1], "focal lengths must be positive, got fx=0.0"),
        ([float("nan")] + [1.0] * 8, "NaN"),
        ([1.0] * 4, "4 numbers, expected 9"),
    ],
)
def test_intrinsics_refuses_unusable_k(k, message):
    with pytest.raises(CameraInfoError, match=message):
        intrinsics(NS(k=k))


def pose(x=1.0, y=2.0, z=3.0, q=(0.0, 0.0, 0.0, 1.0)):
    return NS(position=NS(x=x, y=y, z=z), orientation=NS(x=q[0], y=q[1], z=q[2], w=q[3]))


def test_pose_stamped_odometry_and_transform_shapes_agree():
    q = (0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4))  # 90 deg about z
    expected = np.eye(4)
    expected[:3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    expected[:3, 3] = [1, 2, 3]
    stamped = NS(header=NS(), pose=pose(q=q))
    odometry = NS(header=NS(), child_frame_id="cam", pose=NS(pose=pose(q=q), covariance=[0.0] * 36))
    tf = NS(header=NS(), transform=NS(translation=NS(x=1.0, y=2.0, z=3.0), rotation=NS(x=q[0], y=q[1], z=q[2], w=q[3])))
    for msg in (stamped, odometry, tf):
        np.testing.assert_allclose(pose_matrix(msg), expected, atol=1e-12)


def test_near_unit_quaternion_is_normalised():
    T = pose_matrix(NS(pose=pose(q=(0.0, 0.0, 0.0, 1.004))))
    np.testing.assert_allclose(T[:3, :3], np.eye(3), atol=1e-12)


@pytest.mark.parametrize(
    "q, message",
    [
        ((0.0, 0.0, 0.0, 0.0), "all zeros"),
        ((0.0, 0.0, 0.0, 0.5), "norm 0.5000"),
        ((0.0, 0.0, 0.0, float("nan")), "NaN"),
    ],
)
def test_unusable_quaternions_are_refused(q, message):
    with pytest.raises(PoseError, match=message):
        pose_matrix(NS(pose=pose(q=q)))


def test_non_finite_position_and_missing_pose_are_refused():
    with pytest.raises(PoseError, match="position contains NaN"):
        pose_matrix(NS(pose=pose(x=float("inf"))))
    with pytest.raises(PoseError, match="carries no pose"):
        pose_matrix(NS(data="hello"))


def test_quaternion_round_trip_for_many_rotations():
    rng = np.random.default_rng(3)
    for q in rng.normal(size=(200, 4)):
        q /= np.linalg.norm(q)
        R = rotation_from_quaternion(*q)
        np.testing.assert_allclose(rotation_from_quaternion(*quaternion_from_rotation(R)), R, atol=1e-9)
    # 180 degree turns are the classic failure of naive conversions.
    for R in (np.diag([1.0, -1, -1]), np.diag([-1.0, 1, -1]), np.diag([-1.0, -1, 1])):
        np.testing.assert_allclose(rotation_from_quaternion(*quaternion_from_rotation(R)), R, atol=1e-12)


def test_stamp_ns_is_exact():
    assert stamp_ns(NS(sec=1_700_000_000, nanosec=123_456_789)) == 1_700_000_000_123_456_789
