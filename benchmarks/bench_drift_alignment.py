"""What aligning each frame to the map would buy under pose drift: a measurement, not a feature.

    python benchmarks/bench_drift_alignment.py --seeds 0 1 2 3 4 5 --frames 300

Issue 16's recall target (0.95 of the objects seen in >= 10 frames) cannot be met on the noisy
recordings while the memory takes the poses as given: the drifting poses alone move small objects
out of IoU 0.25 (`replay.object_metrics.pose_bound`, 82-85 %). This script measures how far a
frame-to-model alignment would lift that bound. Each frame of a cached noisy recording (made by
bench_replay.py) is aligned to the map of the frames before it, with the correction of the
previous frame as the first guess: Open3D's point-to-plane ICP (correspondences within 20 cm,
then 8 cm) of the frame's points (5 cm voxels) against the map's points and normals within 6 m
(normals from each frame's own points, 5 cm voxels). Printed per seed, for the recording's poses
and for the aligned ones: the camera position error against the truth and the pose bound (how far
the poses move the well-seen objects, and the recall a memory exact up to its poses would reach),
and the alignment's time per frame. The map here grows without bound and the normals are
estimated per frame on the CPU: the time is that of this prototype, not of a bounded design.

    python benchmarks/bench_drift_alignment.py --seeds 0 1 2 3 4 5 --frames 300 --oracle

skips the alignment and prints instead what a perfect correction of one part of the drift would
buy, the truth put into the recording's poses: its yaw error taken out (turned about the camera's
position, what a compass such as the room's dominant wall direction could give), or its camera
positions replaced by the true ones (the yaw error kept). Which part a corrector must fix.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import open3d as o3d
from bench_replay import recording

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory.snapshot import Trajectory
from reasmory_ros.pipeline import Pipeline
from reasmory_ros.replay.bag import open_bag
from reasmory_ros.replay.object_metrics import camera_position_error, pose_bound
from reasmory_ros.sim.ground_truth import GroundTruth

VOXEL = 0.05
"""m: the frame's points and the map are kept at this spacing."""
MAP_RADIUS = 6.0
"""m: map points farther than this from the camera's first guess are not aligned against."""
MIN_MAP_POINTS = 1000
"""Fewer map points near the camera (the first frame) give no alignment: the guess is kept."""
ICP_DISTANCES = (0.2, 0.08)
"""m: correspondence distances of the two ICP rounds (drift of a few cm per metre, then fine)."""
MAX_STEP_M = 0.02
MAX_STEP_DEG = 0.75
"""An alignment that moves the first guess by more than this is refused (the guess is kept): the
recordings' drift (1 cm/sqrt(m), 0.5 deg/sqrt(m) of yaw) and jitter (3 mm, 0.15 deg per axis)
change the correction by less from one frame to the next; ICP along a wall slides farther."""
STRIDE = 4
"""Pixel stride of the depth samples (the memory's default sampling)."""


def camera_points(frame) -> np.ndarray:
    """The frame's valid depth samples in its camera frame (N, 3)."""
    depth = frame.depth[::STRIDE, ::STRIDE]
    rows, cols = np.mgrid[0:frame.depth.shape[0]:STRIDE, 0:frame.depth.shape[1]:STRIDE]
    valid = (depth > 0.1) & (depth < 5.0)
    z = depth[valid]
    K = frame.K
    return np.stack([(cols[valid] - K[0, 2]) / K[0, 0] * z, (rows[valid] - K[1, 2]) / K[1, 1] * z, z], 1)


class MapAligner:
    """Frame-to-model ICP against the points (with normals) of the frames aligned before."""

    def __init__(self) -> None:
        self.points = np.zeros((0, 3), np.float32)
        self.normals = np.zeros((0, 3), np.float32)
        self.correction = np.eye(4)
        """Aligned pose @ inverse(given pose) of the last frame: the drift found so far."""

    def align(self, frame) -> np.ndarray:
        """The frame's pose aligned to the map; the frame then joins the map."""
        local = o3d.t.geometry.PointCloud(o3d.core.Tensor(camera_points(frame).astype(np.float32)))
        local = local.voxel_down_sample(VOXEL)
        local.estimate_normals(max_nn=20, radius=3 * VOXEL)
        pose = guess = self.correction @ frame.T_world_camera
        near = np.linalg.norm(self.points - pose[:3, 3], axis=1) < MAP_RADIUS
        if near.sum() >= MIN_MAP_POINTS:
            target = o3d.t.geometry.PointCloud(o3d.core.Tensor(self.points[near]))
            target.point.normals = o3d.core.Tensor(self.normals[near])
            for distance in ICP_DISTANCES:
                pose = o3d.t.pipelines.registration.icp(
                    local, target, distance, o3d.core.Tensor(pose),
                    o3d.t.pipelines.registration.TransformationEstimationPointToPlane(),
                    o3d.t.pipelines.registration.ICPConvergenceCriteria(max_iteration=15),
                ).transformation.numpy()
        step = pose @ np.linalg.inv(guess)
        angle = np.degrees(np.arccos(np.clip((np.trace(step[:3, :3]) - 1) / 2, -1.0, 1.0)))
        if np.linalg.norm(step[:3, 3]) > MAX_STEP_M or angle > MAX_STEP_DEG:
            pose = guess  # more than drift and jitter move a pose from one frame to the next: a slide
        self.correction = pose @ np.linalg.inv(frame.T_world_camera)
        rotation = pose[:3, :3].astype(np.float32)
        merged = o3d.t.geometry.PointCloud(o3d.core.Tensor(np.concatenate(
            [self.points, local.point.positions.numpy() @ rotation.T + pose[:3, 3].astype(np.float32)])))
        merged.point.normals = o3d.core.Tensor(np.concatenate([self.normals, local.point.normals.numpy() @ rotation.T]))
        merged = merged.voxel_down_sample(VOXEL)
        self.points, self.normals = merged.point.positions.numpy(), merged.point.normals.numpy()
        return pose


def trajectory(frames, poses) -> Trajectory:
    return Trajectory(np.array([f.index for f in frames]), np.array([f.timestamp for f in frames]), np.stack(poses))


def without_yaw_error(given: np.ndarray, true: np.ndarray) -> np.ndarray:
    """The given pose turned about its camera position by the yaw of its error against the true one."""
    error = given[:3, :3] @ true[:3, :3].T
    yaw = np.arctan2(error[1, 0], error[0, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    turned = given.copy()
    turned[:3, :3] = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]) @ given[:3, :3]
    return turned


def with_true_position(given: np.ndarray, true: np.ndarray) -> np.ndarray:
    placed = given.copy()
    placed[:3, 3] = true[:3, 3]
    return placed


def oracle_poses(frames, truth: GroundTruth) -> dict[str, list[np.ndarray]]:
    """The recording's poses with one part of their error taken out by the truth."""
    pairs = [(f.T_world_camera, truth.camera.poses[f.index]) for f in frames]
    return {
        "yaw error removed": [without_yaw_error(given, true) for given, true in pairs],
        "true positions": [with_true_position(given, true) for given, true in pairs],
    }


def report(name: str, frames, poses, truth: GroundTruth) -> None:
    path = trajectory(frames, poses)
    camera = camera_position_error(path, truth)
    bound = pose_bound(path, truth)
    print(f"  {name:19s} camera error median {camera.median_m * 100:.1f} cm max {camera.max_m * 100:.1f} cm; "
          f"objects moved median {bound.median_shift_m * 100:.1f} cm max {bound.max_shift_m * 100:.1f} cm; "
          f"pose bound of the recall {bound.recall * 100:.1f} % ({bound.objects} objects)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench"), help="bench_replay.py's recordings")
    parser.add_argument("--oracle", action="store_true",
                        help="instead of aligning, take the yaw error or the position error out with the truth")
    args = parser.parse_args()
    settings = Settings()
    for seed in args.seeds:
        out = recording(args.cache, seed, args.frames, "noisy")
        stream = open_bag(out / "bag", settings)
        pipeline = Pipeline.build(stream.settings, instance_topics=stream.has_instances, clock=stream.clock)
        frames = list(stream.frames(pipeline.assembler))
        truth = GroundTruth.load(out / "scene.json")
        if args.oracle:
            print(f"seed {seed}: {len(frames)} frames")
            variants = oracle_poses(frames, truth)
        else:
            aligner, aligned, seconds = MapAligner(), [], []
            for frame in frames:
                start = time.perf_counter()
                aligned.append(aligner.align(frame))
                seconds.append(time.perf_counter() - start)
            print(f"seed {seed}: {len(frames)} frames, alignment p50 {np.median(seconds) * 1e3:.0f} ms a frame")
            variants = {"aligned to the map": aligned}
        report("recording's poses", frames, [f.T_world_camera for f in frames], truth)
        for name, poses in variants.items():
            report(name, frames, poses, truth)


if __name__ == "__main__":
    main()
