"""Per-frame cost of each perception plug-in at 640 x 480, and odometry accuracy on a rendered walk.

    python benchmarks/bench_perception.py [--frames 60] [--device cpu] [--threads 1] [--full-size]

Models are randomly initialised (no weights can be downloaded here). By default they are the tiny
models of the test suite, so their rows measure the plumbing around a network (pre-processing,
resizing back to 640 x 480, NMS, masks, host/device copies). With --full-size they have the
architecture and input size of the recommended checkpoints (OWLv2-base-patch16, Grounding-DINO-
tiny, SAM ViT-B, Depth-Anything-V2-Small), hence the same compute per frame as the real models.
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


def timed(function: Callable[[Frame], object], frames: list[Frame], device: torch.device, warmup: int) -> np.ndarray:
    """Milliseconds per call after `warmup` untimed calls (CUDA is synchronised around each call)."""
    for frame in frames[:warmup]:
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
    """n_frames of 640 x 480 at 10 fps: the start of a 300-frame loop (about 2.4 cm per frame)."""
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

    return timed(integrate, frames, device, warmup=3)


def odometry_rows(frames: list[Frame], truth: np.ndarray, device_name: str, peer_ms: float) -> list[str]:
    """Odometry cost and ATE at full and half resolution, every frame through the pipeline."""
    walked = float(np.linalg.norm(np.diff(truth[:, :3, 3], axis=0), axis=1).sum())
    rows = []
    for downsample in (1, 2):
        pipeline = PerceptionPipeline.from_config(PerceptionConfig(device=device_name, odometry_downsample=downsample))
        poses, costs = [], []
        for frame in frames:
            start = time.perf_counter()
            result = pipeline.process(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth)
            costs.append(1e3 * (time.perf_counter() - start))
            poses.append(None if result.frame is None else result.frame.T_world_camera)
        tracked = [i for i, pose in enumerate(poses) if pose is not None]
        ate = absolute_trajectory_error(np.stack([poses[i] for i in tracked]), truth[tracked])
        rows.append(row(f"odometry, odometry_downsample={downsample}", np.array(costs[1:]), peer_ms,
                        f"ATE {1e3 * ate:.1f} mm over {walked:.2f} m, {len(frames) - len(tracked)} skipped"))
    return rows


def model_rows(frames: list[Frame], device_name: str, device: torch.device, full_size: bool, peer_ms: float,
               warmup: int) -> list[str]:
    """Depth and instance plug-ins, each run on every frame (the detector with N = 1)."""
    size = "full-size" if full_size else "tiny"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        depth_stage = DepthStage(PerceptionConfig(device=device_name, depth_model_path=str(
            testing.save_random_depth_anything(root / "depth", full_size=full_size))), device)
        costs = timed(lambda f: depth_stage.estimate(f.rgb), frames, device, warmup)
        rows.append(row(f"depth: {size} Depth Anything", costs, peer_ms, "resize back to 640x480 included"))

        owl = str(testing.save_random_owl(root / "owlv2", full_size=full_size))
        base = dict(device=device_name, categories=CATEGORIES, score_threshold=0.0, detect_every_n_frames=1)
        variants = {
            "OWLv2 + box-in-depth": PerceptionConfig(**base, detector_model_path=owl),
            "OWLv2 + SAM": PerceptionConfig(**base, detector_model_path=owl, segmenter_model_path=str(
                testing.save_random_sam(root / "sam", full_size=full_size))),
            "Grounding DINO + box-in-depth": PerceptionConfig(**base, detector_model_path=str(
                testing.save_random_grounding_dino(root / "gdino", full_size=full_size))),
        }
        for name, config in variants.items():
            stage = InstanceStage(config, device)

            def detect_and_segment(frame: Frame, stage=stage) -> None:
                stage.process(FrameInputs(frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth))

            costs = timed(detect_and_segment, frames, device, warmup)
            every = PerceptionConfig().detect_every_n_frames
            rows.append(row(f"instances: {size} {name}", costs, peer_ms,
                            f"<= {config.max_detections} boxes; amortised at every {every}th frame: "
                            f"{np.median(costs) / every:.1f} ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="rendered frames (odometry and peer)")
    parser.add_argument("--model-frames", type=int, default=None,
                        help="frames timed per model plug-in (default 15, or 2 with --full-size)")
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; 1 keeps figures stable on a shared machine")
    parser.add_argument("--full-size", action="store_true",
                        help="random models with the recommended checkpoints' architecture (real cost)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    device = resolve_torch_device(args.device)
    torch.set_num_threads(args.threads)
    model_frames = args.model_frames or (2 if args.full_size else 15)

    frames, truth = render(args.frames)
    peer = tsdf_peer(frames, device)
    peer_ms = float(np.median(peer))
    lines = [
        f"device: {device} (Open3D {open3d_device(device)}), torch threads: {torch.get_num_threads()}, "
        f"640x480, {args.frames} frames, {model_frames} per model plug-in",
        "",
        "| plug-in | p50 ms | p90 ms | p50 / TSDF peer | note |",
        "| --- | --- | --- | --- | --- |",
        row("peer: Open3D VoxelBlockGrid integrate", peer, peer_ms, "2 cm voxels, same frames"),
        *odometry_rows(frames, truth, args.device, peer_ms),
        *model_rows(frames[:model_frames], args.device, device, args.full_size, peer_ms,
                    warmup=1 if args.full_size else 3),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
