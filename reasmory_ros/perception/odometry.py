"""Pose from RGB-D odometry, for cameras without a pose source.

Each new frame is aligned to the last tracked frame with Open3D's multi-scale tensor odometry
(photometric + geometric by default) and the relative motions are chained into a trajectory of
the optical frame in a z-up world anchored by the configured initial height and pitch.

Chaining drifts without bound (there is no loop closure), which is logged once. When tracking
fails (too few valid depth pixels, Open3D error, low inlier fraction or an implausible jump) the
frame is *skipped*: a wrong pose would smear its depth into the map for good. The last tracked
frame stays the reference, so the next frame is aligned to it; after too many failures in a row
tracking restarts from the current frame at the last good pose.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np
import open3d as o3d
import torch

from .config import PerceptionConfig
from .stage import FrameInputs, FrameSkipped, PerceptionStage

logger = logging.getLogger(__name__)

_METHODS = {
    "hybrid": o3d.t.pipelines.odometry.Method.Hybrid,
    "intensity": o3d.t.pipelines.odometry.Method.Intensity,
    "point_to_plane": o3d.t.pipelines.odometry.Method.PointToPlane,
}
DRIFT_WARNING = (
    "perception: camera pose comes from frame-to-frame RGB-D odometry, which drifts without bound "
    "(no loop closure): positions and walked distances degrade over long runs. Give a pose topic or "
    "tf when one exists."
)


def level_camera_pose(height_m: float, pitch_deg: float) -> np.ndarray:
    """Optical-frame pose (x right, y down, z forward) at `height_m` above the origin of a z-up
    world, heading along +x, pitched about its right axis (negative looks down)."""
    pitch = math.radians(pitch_deg)
    forward = np.array([math.cos(pitch), 0.0, math.sin(pitch)])
    right = np.array([0.0, -1.0, 0.0])
    T = np.eye(4)
    T[:3, :3] = np.column_stack([right, np.cross(forward, right), forward])
    T[2, 3] = height_m
    return T


def downsample_rgbd(rgb: np.ndarray, depth: np.ndarray, K: np.ndarray, factor: int, max_spread_m: float):
    """(colour as float32 0..1, depth, intrinsics) of an image `factor` times smaller.

    Colour is block-averaged (no aliasing of fine texture into the photometric term). Depth averages
    the valid pixels of each block that agree with its top-left pixel to within `max_spread_m`
    (like Open3D's own depth pyramid), so no depth is invented across an object's silhouette while
    sensor noise still averages out. Block centres sit at factor * u + (factor - 1) / 2, hence the
    shifted principal point. Strided views instead of a reshaped mean: several times faster.
    """
    height, width = (rgb.shape[0] // factor) * factor, (rgb.shape[1] // factor) * factor
    offsets = [(i, j) for i in range(factor) for j in range(factor)]
    color = sum(rgb[i:height:factor, j:width:factor].astype(np.float32) for i, j in offsets)
    color *= np.float32(1.0 / (255.0 * factor * factor))
    if factor == 1:
        return color, depth, np.asarray(K, dtype=np.float64)
    anchor = depth[0:height:factor, 0:width:factor]
    total = np.zeros_like(anchor)
    count = np.zeros_like(anchor)
    for i, j in offsets:
        block = depth[i:height:factor, j:width:factor]
        agrees = (block > 0) & (np.abs(block - anchor) <= max_spread_m)
        total += np.where(agrees, block, np.float32(0.0))
        count += agrees
    small = np.where(anchor > 0, total / np.maximum(count, 1), np.float32(0.0)).astype(np.float32)
    K_small = np.array(K, dtype=np.float64)
    K_small[:2, :2] /= factor
    K_small[:2, 2] = (K_small[:2, 2] + 0.5) / factor - 0.5
    return color, small, K_small


def open3d_device(device: torch.device) -> o3d.core.Device:
    """The Open3D device matching the torch one; CPU when this Open3D build has no CUDA."""
    if device.type == "cuda":
        if o3d.core.cuda.is_available():
            return o3d.core.Device(f"CUDA:{device.index or 0}")
        logger.info("perception: this Open3D build has no CUDA; odometry runs on the CPU")
    return o3d.core.Device("CPU:0")


@dataclass(frozen=True)
class _Prepared:
    """A frame as odometry sees it: downsampled RGB-D on the Open3D device and its intrinsics."""

    rgbd: o3d.t.geometry.RGBDImage
    K: o3d.core.Tensor
    valid_fraction: float


@dataclass
class _Reference:
    """The last tracked (or pose-given) frame; prepared only when something is aligned to it."""

    inputs: FrameInputs
    T_world_camera: np.ndarray
    prepared: _Prepared | None = None


class OdometryStage(PerceptionStage):
    """Fills in T_world_camera by chaining frame-to-frame RGB-D odometry."""

    name = "pose"

    def __init__(self, config: PerceptionConfig, device: torch.device):
        super().__init__()
        self.device = open3d_device(device)
        self.method = _METHODS[config.odometry_method]
        self.criteria = [o3d.t.pipelines.odometry.OdometryConvergenceCriteria(n) for n in config.odometry_iterations]
        self.loss = o3d.t.pipelines.odometry.OdometryLossParams(depth_outlier_trunc=config.odometry_depth_diff_m)
        self.downsample = config.odometry_downsample
        self.depth_diff_m = config.odometry_depth_diff_m
        self.depth_max_m = config.odometry_depth_max_m
        self.min_valid_fraction = config.odometry_min_valid_fraction
        self.min_fitness = config.odometry_min_fitness
        self.max_step_m = config.odometry_max_step_m
        self.reset_after_failures = config.odometry_reset_after_failures
        self.initial_pose = level_camera_pose(config.initial_camera_height_m, config.initial_camera_pitch_deg)
        self._reference: _Reference | None = None
        self._motion = np.eye(4)  # last frame-to-frame motion: the initial guess for the next one
        self._failures_in_a_row = 0
        self._warned = False

    def _prepare(self, inputs: FrameInputs) -> _Prepared:
        color, depth, K = downsample_rgbd(inputs.rgb, inputs.depth, inputs.K, self.downsample, self.depth_diff_m)
        valid_fraction = float(np.count_nonzero((depth > 0) & (depth < self.depth_max_m))) / depth.size
        rgbd = o3d.t.geometry.RGBDImage(
            o3d.t.geometry.Image(o3d.core.Tensor(color)).to(self.device),
            o3d.t.geometry.Image(o3d.core.Tensor(np.ascontiguousarray(depth, dtype=np.float32))).to(self.device),
        )
        return _Prepared(rgbd, o3d.core.Tensor(K), valid_fraction)

    def _fail(self, reason: str) -> None:
        self._count("failures")
        self._failures_in_a_row += 1
        self._motion = np.eye(4)
        raise FrameSkipped(f"odometry: {reason}")

    def _align(self, current: _Prepared) -> np.ndarray:
        """Motion of the current frame in the reference frame (T_reference_current)."""
        reference = self._reference
        if reference.prepared is None:
            reference.prepared = self._prepare(reference.inputs)
        try:
            result = o3d.t.pipelines.odometry.rgbd_odometry_multi_scale(
                current.rgbd, reference.prepared.rgbd, current.K, o3d.core.Tensor(self._motion),
                depth_scale=1.0, depth_max=self.depth_max_m, criteria_list=self.criteria, method=self.method,
                params=self.loss,
            )
        except RuntimeError as err:
            self._fail(f"Open3D failed: {err}")
        motion = result.transformation.cpu().numpy()
        if not np.isfinite(motion).all():
            self._fail("non-finite transformation")
        if result.fitness < self.min_fitness:
            self._fail(f"inlier fraction {result.fitness:.2f} < odometry_min_fitness {self.min_fitness}")
        step = float(np.linalg.norm(motion[:3, 3]))
        if step > self.max_step_m:
            self._fail(f"step of {step:.2f} m > odometry_max_step_m {self.max_step_m}")
        return motion

    def process(self, inputs: FrameInputs) -> FrameInputs:
        if inputs.T_world_camera is not None:
            # A given pose re-anchors tracking, so odometry can bridge later frames without one.
            self._reference = _Reference(inputs, np.asarray(inputs.T_world_camera, dtype=np.float64))
            self._motion = np.eye(4)
            return inputs
        if not self._warned:
            logger.warning(DRIFT_WARNING)
            self._warned = True
        current = self._prepare(inputs)
        if current.valid_fraction < self.min_valid_fraction:
            self._fail(f"valid depth covers {current.valid_fraction:.0%} < odometry_min_valid_fraction")
        if self._reference is None:
            pose = self.initial_pose
        elif 0 < self.reset_after_failures <= self._failures_in_a_row:
            logger.warning(
                "perception: odometry lost for %d frames; restarting from frame %d at the last good pose",
                self._failures_in_a_row, inputs.index,
            )
            self._count("resets")
            pose = self._reference.T_world_camera
        else:
            self._motion = self._align(current)
            pose = self._reference.T_world_camera @ self._motion
            self._count("tracked")
        self._failures_in_a_row = 0
        self._reference = _Reference(inputs, pose, current)
        return dataclasses.replace(inputs, T_world_camera=pose)


def absolute_trajectory_error(estimated: np.ndarray, ground_truth: np.ndarray) -> float:
    """RMSE (m) of camera positions after the best rigid alignment (Horn's method), the TUM RGB-D
    ATE: it measures drift and shape, not where the trajectory happened to be anchored.

    estimated, ground_truth: N x 4 x 4 poses or N x 3 positions of the same frames.
    """
    p = np.asarray(estimated, dtype=np.float64)
    q = np.asarray(ground_truth, dtype=np.float64)
    p, q = (p[:, :3, 3], q[:, :3, 3]) if p.ndim == 3 else (p, q)
    p_mean, q_mean = p.mean(axis=0), q.mean(axis=0)
    u, _, vt = np.linalg.svd((p - p_mean).T @ (q - q_mean))
    reflection = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    rotation = vt.T @ reflection @ u.T
    aligned = (p - p_mean) @ rotation.T + q_mean
    return float(np.sqrt(np.mean(np.sum((aligned - q) ** 2, axis=1))))
