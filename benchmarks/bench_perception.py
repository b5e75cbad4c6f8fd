"""Per-frame cost of each perception plug-in at 640 x 480, and odometry accuracy on a rendered walk.

    python benchmarks/bench_perception.py [--frames 60] [--device cpu] [--threads 1]

The transformers models are the *tiny random* ones of the test suite, so their figures measure the
plumbing (pre-processing, resizing, NMS, mask painting, host/device copies), not a real network:
a real OWLv2-base, SAM-ViT-B or Depth-Anything-Small costs far more (see docs/perception.md).
Odometry is real Open3D work on real-size frames. As a peer measured in the same run, Open3D's
VoxelBlockGrid TSDF integration of the same frames (what a map update costs) gives the scale.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import open3d as o3d
import torch

from reasmory_ros.memory.frame import Frame
from reasmory_ros.perception import FrameInputs, PerceptionConfig, PerceptionPipeline, testing
from reasmory_ros.perception.depth import DepthStage
from reasmory_ros.perception.instances import InstanceStage
from reasmory_ros.perception.models import resolve_torch_device
from reasmory_ros.perception.odometry import absolute_trajectory_error, open3d_device
from reasmory_ros.sim import CameraPath, camera_trajectory, generate_scene, render_sequence

CATEGORIES = ["chair", "table", "lamp", "sofa", "tv", "bed", "plant", "cabinet"]
WARMUP = 3


def timed(function: Callable[[Frame], object], frames: list[Frame], device: torch.device) -> np.ndarray:
    """Milliseconds per call after WARMUP untimed calls (CUDA is synchronised around each call)."""
    for frame in frames[:WARMUP]:
        function(frame)
    costs = []
    for frame in frames:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        function(frame)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        costs.append(1e3 * (time.perf_counter() - start))
    return np.array(costs)


def row(name: str, costs_ms: np.ndarray, peer_ms: float, note: str = "") -> str:
    p50, p90 = np.percentile(costs_ms, [50, 90])
    return f"| {name} | {p50:.1f} | {p90:.1f} | {p50 / peer_ms:.2f} | {note} |"


def render(n_frames: int) -> tuple[list[Frame], np.ndarray]:
    """n_frames of 640 x 480 at 10 fps: the start of a 300-frame loop (about 2 cm per frame)."""
    scene = generate_scene(3)
    loop = camera_trajectory(scene, n_frames=max(300, n_frames), seed=0)
    path = CameraPath(loop.poses[:n_frames], loop.timestamps[:n_frames])
    return [r.frame for r in render_sequence(scene, path, width=640, height=480)], np.array(path.poses)


def tsdf_peer(frames: list[Frame], device: torch.device) -> np.ndarray:
    """Open3D VoxelBlockGrid integration of the same frames (the map-update cost this feeds)."""
    o3d_device = open3d_device(device)
    grid = o3d.t.geometry.VoxelBlockGrid(
        attr_names=("tsdf", "weight", "color"), attr_dtypes=(o3d.core.float32, o3d.core.float32, o3d.core.float32),
        attr_channels=((1), (1), (3)), voxel_size=0.02, block_resolution=8, block_count=50000, device=o3d_device,
    )
    intrinsic = o3d.core.Tensor(frames[0].K)

    def integrate(frame: Frame) -> None:
        depth = o3d.t.geometry.Image(o3d.core.Tensor(frame.depth)).to(o3d_device)
        color = o3d.t.geometry.Image(o3d.core.Tensor(frame.rgb.astype(np.float32) / 255.0)).to(o3d_device)
        extrinsic = o3d.core.Tensor(np.linalg.inv(frame.T_world_camera))
        blocks = grid.compute_unique_block_coordinates(depth, intrinsic, extrinsic, 1.0, 5.0)
        grid.integrate(blocks, depth, color, intrinsic, extrinsic, 1.0, 5.0)

    return timed(integrate, frames, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="rendered frames (odometry and peer)")
    parser.add_argument("--model-frames", type=int, default=15, help="frames timed per model plug-in")
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; 1 keeps figures stable on a shared machine")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    device = resolve_torch_device(args.device)
    torch.set_num_threads(args.threads)

    frames, truth = render(args.frames)
    peer = tsdf_peer(frames, device)
    peer_ms = float(np.median(peer))
    lines = [
        f"device: {device} (Open3D {open3d_device(device)}), torch threads: {torch.get_num_threads()}, "
        f"640x480, {args.frames} frames",
        "",
        "| plug-in | p50 ms | p90 ms | p50 / TSDF peer | note |",
        "| --- | --- | --- | --- | --- |",
        row("peer: Open3D VoxelBlockGrid integrate", peer, peer_ms, "2 cm voxels, same frames"),
    ]

    walked = float(np.linalg.norm(np.diff(truth[:, :3, 3], axis=0), axis=1).sum())
    for downsample in (1, 2):
        odometry = PerceptionPipeline.from_config(PerceptionConfig(device=args.device, odometry_downsample=downsample))
        poses, costs = [], []
        for frame in frames:
            start = time.perf_counter()
            result = odometry.process(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth)
            costs.append(1e3 * (time.perf_counter() - start))
            poses.append(None if result.frame is None else result.frame.T_world_camera)
        tracked = [i for i, pose in enumerate(poses) if pose is not None]
        ate = absolute_trajectory_error(np.stack([poses[i] for i in tracked]), truth[tracked])
        lines.append(row(f"odometry, odometry_downsample={downsample}", np.array(costs[1:]), peer_ms,
                         f"ATE {1e3 * ate:.1f} mm over {walked:.2f} m, {len(frames) - len(tracked)} skipped"))

    timed_frames = frames[: args.model_frames]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = dict(device=args.device, categories=CATEGORIES, score_threshold=0.0, detect_every_n_frames=1,
                    detector_model_path=str(testing.save_tiny_owl(root / "owlv2")))
        depth_stage = DepthStage(PerceptionConfig(
            device=args.device, depth_model_path=str(testing.save_tiny_depth_anything(root / "depth"))), device)
        lines.append(row("depth (tiny Depth Anything)", timed(lambda f: depth_stage.estimate(f.rgb), timed_frames,
                                                            device), peer_ms, "resize back to 640x480 included"))
        variants = {
            "instances: OWLv2 + box-in-depth": PerceptionConfig(**base),
            "instances: OWLv2 + SAM": PerceptionConfig(**base, segmenter_model_path=str(testing.save_tiny_sam(root / "sam"))),
            "instances: Grounding DINO + box-in-depth": PerceptionConfig(**{
                **base, "detector_model_path": str(testing.save_tiny_grounding_dino(root / "gdino"))}),
        }
        for name, config in variants.items():
            stage = InstanceStage(config, device)

            def detect_and_segment(frame: Frame, stage=stage) -> None:
                stage.process(FrameInputs(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth))

            costs = timed(detect_and_segment, timed_frames, device)
            lines.append(row(name, costs, peer_ms,
                             f"{config.max_detections} boxes max; per frame at every 5th: {np.median(costs) / 5:.1f} ms"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
