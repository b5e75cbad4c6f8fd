"""The one input type of the memory: a validated RGB-D frame with pose and optional instances.

The live node, the bag replay and the simulator all build a `Frame`, so every path runs the same
memory code. Validation happens here, once, so the memory itself can assume clean arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reasmory_ros.memory.geometry import FAR


class FrameError(ValueError):
    """A frame field is malformed; `field` names it so a log line can say which input was bad."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"frame field '{field_name}': {message}")
        self.field = field_name


MAX_IMAGE_PIXELS = 4096 * 4096
"""Bounded work: larger images are refused rather than slowing the memory down."""
MAX_CAMERA_COORDINATE = FAR / 2 - 1000.0
"""m from the world origin along any axis. Empty point slots hold coordinates of FAR and a point
beyond FAR / 2 reads as empty, so a camera further out would silently remember nothing: poses
must come in a frame whose origin is near the robot (odometry or map, not UTM)."""


@dataclass(frozen=True)
class Frame:
    """One synchronised observation.

    rgb: H x W x 3 uint8. depth: H x W float32 metres, 0 or NaN where invalid (registered to rgb).
    K: 3 x 3 pinhole intrinsics. T_world_camera: 4 x 4 pose of the camera *optical* frame
    (z forward, x right, y down) in the world frame (z up, gravity aligned).
    index: 0-based position in stream order (questions count frames from 1).
    instances: optional H x W int32 ids, 0 = none, unique only within this frame.
    labels: {instance id: category} for the ids in `instances`.
    """

    rgb: np.ndarray
    depth: np.ndarray
    K: np.ndarray
    T_world_camera: np.ndarray
    timestamp: float
    index: int
    instances: np.ndarray | None = None
    labels: dict[int, str] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.depth.shape[0])

    @property
    def width(self) -> int:
        return int(self.depth.shape[1])

    @classmethod
    def create(
        cls,
        rgb: np.ndarray,
        depth: np.ndarray,
        K: np.ndarray,
        T_world_camera: np.ndarray,
        timestamp: float,
        index: int,
        instances: np.ndarray | None = None,
        labels: dict[int, str] | None = None,
    ) -> Frame:
        """Validate and normalise raw arrays into a Frame; raise FrameError naming the bad field.

        Depth values that are NaN, infinite or not positive are set to 0 (invalid) rather than
        rejected: real sensors produce them on every frame.
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise FrameError("rgb", f"expected H x W x 3, got shape {rgb.shape}")
        if rgb.dtype != np.uint8:
            raise FrameError("rgb", f"expected uint8, got {rgb.dtype}")
        height, width = rgb.shape[:2]
        if height == 0 or width == 0:
            raise FrameError("rgb", "image is empty (0 pixels)")
        if height * width > MAX_IMAGE_PIXELS:
            raise FrameError("rgb", f"{width}x{height} exceeds the {MAX_IMAGE_PIXELS}-pixel limit")

        depth = np.asarray(depth)
        if depth.shape != (height, width):
            raise FrameError("depth", f"shape {depth.shape} does not match rgb {(height, width)}")
        if not np.issubdtype(depth.dtype, np.floating):
            raise FrameError("depth", f"expected float metres, got {depth.dtype}")
        depth = depth.astype(np.float32, copy=True)
        depth[~np.isfinite(depth) | (depth < 0)] = 0.0
        if not depth.any():
            raise FrameError("depth", "no valid depth pixel")

        K = np.asarray(K, dtype=np.float64)
        if K.shape != (3, 3) or not np.isfinite(K).all():
            raise FrameError("K", f"expected a finite 3 x 3 matrix, got shape {K.shape}")
        if K[0, 0] <= 0 or K[1, 1] <= 0:
            raise FrameError("K", f"focal lengths must be positive, got fx={K[0, 0]}, fy={K[1, 1]}")

        T = np.asarray(T_world_camera, dtype=np.float64)
        if T.shape != (4, 4) or not np.isfinite(T).all():
            raise FrameError("T_world_camera", f"expected a finite 4 x 4 matrix, got shape {T.shape}")
        R = T[:3, :3]
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-3) or np.linalg.det(R) <= 0:
            raise FrameError("T_world_camera", "rotation part is not a proper rotation matrix")
        if not np.allclose(T[3], (0, 0, 0, 1)):
            raise FrameError("T_world_camera", "last row must be 0 0 0 1")
        if np.abs(T[:3, 3]).max() > MAX_CAMERA_COORDINATE:
            x, y, z = T[:3, 3]
            raise FrameError("T_world_camera", f"camera at ({x:.0f}, {y:.0f}, {z:.0f}) m is beyond the "
                             f"+-{MAX_CAMERA_COORDINATE:.0f} m the memory covers: give poses in a frame whose "
                             "origin is near the robot (odometry or map, not UTM)")

        if not np.isfinite(timestamp):
            raise FrameError("timestamp", f"must be finite, got {timestamp}")
        if index < 0:
            raise FrameError("index", f"must be >= 0, got {index}")

        labels = {int(k): str(v) for k, v in (labels or {}).items()}
        if instances is not None:
            instances = np.asarray(instances)
            if instances.shape != (height, width):
                raise FrameError(
                    "instances", f"shape {instances.shape} does not match rgb {(height, width)}"
                )
            if not np.issubdtype(instances.dtype, np.integer):
                raise FrameError("instances", f"expected integer ids, got {instances.dtype}")
            instances = instances.astype(np.int32, copy=False)
        elif labels:
            raise FrameError("labels", "labels given without an instance image")

        return cls(
            rgb=rgb,
            depth=depth,
            K=K,
            T_world_camera=T,
            timestamp=float(timestamp),
            index=int(index),
            instances=instances,
            labels=labels,
        )
