"""Camera intrinsics, poses and stamps from message-like objects (rclpy or rosbags), without ROS.

Poses follow tf2's rule for quaternions: a quaternion whose squared norm is within 0.01 of 1 is
normalised (rounding in serialisers and hand-written YAML), anything further off is refused rather
than silently reinterpreted.

Camera info keeps its width and height with K: intrinsics calibrated for another resolution give
wrong geometry without any visible error, so images of another size are refused (0 = not given).
Binning and ROI are not applied: K must be that of the published images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reasmory_ros.streams.errors import CameraInfoError, PoseError

QUATERNION_TOLERANCE = 0.01
"""Largest accepted |x^2 + y^2 + z^2 + w^2 - 1| (tf2 refuses transforms beyond the same bound)."""


def stamp_ns(stamp) -> int:
    """A builtin_interfaces/Time (sec, nanosec) as integer nanoseconds: an exact matching key."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


@dataclass(frozen=True)
class Intrinsics:
    """A camera_info's 3 x 3 K and the image size it was calibrated for (0 = not given)."""

    K: np.ndarray
    width: int
    height: int

    def check_size(self, width: int, height: int) -> None:
        """CameraInfoError unless images of `width` x `height` pixels are the calibrated size."""
        if any(given and given != actual for given, actual in ((self.width, width), (self.height, height))):
            raise CameraInfoError(
                f"camera_info is for {self.width}x{self.height} images but the color image is "
                f"{width}x{height}: its intrinsics do not apply"
            )


def intrinsics(msg) -> Intrinsics:
    """K (field `k`, row-major, 9 numbers) and size of a CameraInfo-like message."""
    k = np.asarray(msg.k, dtype=np.float64).reshape(-1)
    if k.size != 9:
        raise CameraInfoError(f"camera_info k has {k.size} numbers, expected 9")
    K = k.reshape(3, 3)
    if not np.isfinite(K).all():
        raise CameraInfoError("camera_info k contains NaN or infinite values")
    if not K.any():
        raise CameraInfoError("camera_info k is all zeros: the camera is not calibrated")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise CameraInfoError(f"camera_info focal lengths must be positive, got fx={K[0, 0]}, fy={K[1, 1]}")
    return Intrinsics(K, int(msg.width), int(msg.height))


def rotation_from_quaternion(x: float, y: float, z: float, w: float) -> np.ndarray:
    """3 x 3 rotation of a quaternion; near-unit ones are normalised, others raise PoseError."""
    q = np.array([x, y, z, w], dtype=np.float64)
    if not np.isfinite(q).all():
        raise PoseError(f"orientation contains NaN or infinite values: {q.tolist()}")
    norm2 = float(q @ q)
    if norm2 < 1e-12:
        raise PoseError("orientation quaternion is all zeros (orientation never set?)")
    if abs(norm2 - 1.0) > QUATERNION_TOLERANCE:
        raise PoseError(f"orientation quaternion has norm {np.sqrt(norm2):.4f}; a rotation needs norm 1")
    x, y, z, w = q / np.sqrt(norm2)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def quaternion_from_rotation(R: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation matrix, w >= 0 (Shepperd's method, stable for every angle)."""
    R = np.asarray(R, dtype=np.float64)
    trace = R[0, 0] + R[1, 1] + R[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s, 0.25 * s]
    else:
        i = int(np.argmax(np.diag(R)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + R[i, i] - R[j, j] - R[k, k])
        q = [0.0, 0.0, 0.0, (R[k, j] - R[j, k]) / s]
        q[i] = 0.25 * s
        q[j] = (R[j, i] + R[i, j]) / s
        q[k] = (R[k, i] + R[i, k]) / s
    q = np.asarray(q) / np.linalg.norm(q)
    if q[3] < 0:
        q = -q
    return float(q[0]), float(q[1]), float(q[2]), float(q[3])


def _translation_and_rotation(msg):
    """Find (point, quaternion) inside PoseStamped, Pose, Odometry, PoseWithCovariance*, Transform*."""
    node = msg
    for _ in range(4):
        if hasattr(node, "position") and hasattr(node, "orientation"):
            return node.position, node.orientation
        if hasattr(node, "translation") and hasattr(node, "rotation"):
            return node.translation, node.rotation
        inner = getattr(node, "transform", None)
        node = inner if inner is not None else getattr(node, "pose", None)
        if node is None:
            break
    raise PoseError(
        f"{type(msg).__name__} carries no pose; expected PoseStamped, Pose, Odometry, "
        "PoseWithCovarianceStamped or TransformStamped"
    )


def pose_matrix(msg) -> np.ndarray:
    """4 x 4 transform of a pose-like message (world <- child: PoseStamped, Odometry, tf)."""
    point, q = _translation_and_rotation(msg)
    t = np.array([point.x, point.y, point.z], dtype=np.float64)
    if not np.isfinite(t).all():
        raise PoseError(f"position contains NaN or infinite values: {t.tolist()}")
    T = np.eye(4)
    T[:3, :3] = rotation_from_quaternion(q.x, q.y, q.z, q.w)
    T[:3, 3] = t
    return T


def offset_matrix(values) -> np.ndarray:
    """4 x 4 transform of `x y z qx qy qz qw` (the node's camera_offset parameter)."""
    values = [float(v) for v in values]
    if len(values) != 7:
        raise PoseError(f"expected 7 numbers x y z qx qy qz qw, got {len(values)}")
    T = np.eye(4)
    T[:3, :3] = rotation_from_quaternion(*values[3:])
    T[:3, 3] = values[:3]
    return T
