"""Per-frame cost of SpatialMemory.update over a long stream, against Open3D's VoxelBlockGrid.

The stream: one rendered loop (reasmory_ros.sim, 640x480 RGB-D + instances) around a furnished
room, replayed in copies of the room placed side by side (each loop 10 m further along x), so the
robot keeps meeting new objects and new space: the object table, keyframe store, trajectory and
voxel map all fill up and run their eviction/thinning paths, the worst case for flatness.

Reported per device: p50/p99 update latency over frames 100-1100 (early) and the last 1000 frames
(late), their p50 ratio (target <= 1.10) and p99/p50 (target <= 1.5), the memory's state bytes
at frame 1000 and at the end (must be equal), and Open3D VoxelBlockGrid.integrate (TSDF, same
frames, same voxel size, fed interleaved with the memory in the same run) as a peer ratio.

    python benchmarks/bench_update.py --frames 10000 --device cpu --threads 2
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time

import numpy as np
import open3d as o3d
import torch

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.sim import camera_trajectory, generate_scene, render_sequence

ROOM_SPACING = 10.0
"""m between the copies of the room the stream walks through."""
EARLY = (100, 1100)
PEER_FRAMES = EARLY[1]


def render_loop(seed: int, frames: int, width: int, height: int):
    scene = generate_scene(seed)
    camera = camera_trajectory(scene, n_frames=frames, seed=seed)
    return [r.frame for r in render_sequence(scene, camera, width=width, height=height, seed=seed)]


def stream(loop, total: int):
    """Frame i of the stream: loop frame i mod L, seen in room copy i // L."""
    for i in range(total):
        frame = loop[i % len(loop)]
        shift = np.eye(4)
        shift[0, 3] = ROOM_SPACING * (i // len(loop))
        yield dataclasses.replace(
            frame, T_world_camera=shift @ frame.T_world_camera, index=i, timestamp=i / 15.0
        )


class VoxelBlockGridPeer:
    """Open3D's tensor TSDF integration of the same frames (the DESIGN.md peer)."""

    def __init__(self, voxel_size: float, max_depth: float, device: str):
        self.device = o3d.core.Device("CUDA:0" if device.startswith("cuda") else "CPU:0")
        self.max_depth = max_depth
        self.grid = o3d.t.geometry.VoxelBlockGrid(
            attr_names=("tsdf", "weight", "color"),
            attr_dtypes=(o3d.core.float32, o3d.core.float32, o3d.core.float32),
            attr_channels=((1), (1), (3)),
            voxel_size=voxel_size,
            block_resolution=8,
            block_count=50000,
            device=self.device,
        )

    def integrate(self, frame) -> None:
        depth = o3d.t.geometry.Image(o3d.core.Tensor(frame.depth)).to(self.device)
        color = o3d.t.geometry.Image(o3d.core.Tensor(frame.rgb.astype(np.float32) / 255.0)).to(self.device)
        intrinsic = o3d.core.Tensor(frame.K, o3d.core.float64)
        extrinsic = o3d.core.Tensor(np.linalg.inv(frame.T_world_camera), o3d.core.float64)
        blocks = self.grid.compute_unique_block_coordinates(
            depth, intrinsic, extrinsic, depth_scale=1.0, depth_max=self.max_depth
        )
        self.grid.integrate(blocks, depth, color, intrinsic, extrinsic, depth_scale=1.0,
                            depth_max=self.max_depth)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(device_name: str, loop, total: int, peer: bool) -> dict:
    config = MemoryConfig()
    memory = SpatialMemory(config, device=device_name)
    device = memory.device
    vbg = VoxelBlockGridPeer(config.voxel_size, config.max_depth, device_name) if peer else None
    latency = np.zeros(total)
    peer_latency = []
    bytes_at = {}
    late = (max(total - 1000, 0), total)
    for i, frame in enumerate(stream(loop, total)):
        _sync(device)
        start = time.perf_counter()
        memory.update(frame)
        _sync(device)
        latency[i] = time.perf_counter() - start
        if vbg is not None and i < PEER_FRAMES:
            start = time.perf_counter()
            vbg.integrate(frame)
            peer_latency.append(time.perf_counter() - start)
        if i + 1 in (1000, total):
            bytes_at[i + 1] = memory.allocated_bytes()
    early_ms = latency[EARLY[0]:min(EARLY[1], total)] * 1e3
    late_ms = latency[late[0]:late[1]] * 1e3
    result = {
        "device": str(device),
        "early": (float(np.percentile(early_ms, 50)), float(np.percentile(early_ms, 99))),
        "late": (float(np.percentile(late_ms, 50)), float(np.percentile(late_ms, 99))),
        "late_range": late,
        "bytes": bytes_at,
        "snapshot_objects": len(memory.snapshot().objects),
    }
    if peer_latency:
        peer_ms = np.array(peer_latency[EARLY[0]:]) * 1e3
        result["peer_p50"] = float(np.percentile(peer_ms, 50))
    if device.type == "cuda":
        result["cuda_allocated"] = torch.cuda.memory_allocated(device)
    return result


def report(result: dict, total: int) -> None:
    e50, e99 = result["early"]
    l50, l99 = result["late"]
    lo, hi = result["late_range"]
    print(f"device {result['device']}, {total} frames")
    print(f"  frames {EARLY[0]}-{min(EARLY[1], total)}: p50 {e50:.2f} ms  p99 {e99:.2f} ms  "
          f"p99/p50 {e99 / e50:.2f}")
    print(f"  frames {lo}-{hi}: p50 {l50:.2f} ms  p99 {l99:.2f} ms  p99/p50 {l99 / l50:.2f}")
    print(f"  late/early p50 ratio {l50 / e50:.3f}  (target <= 1.10)")
    for frame, nbytes in sorted(result["bytes"].items()):
        print(f"  state bytes at frame {frame}: {nbytes}")
    if "peer_p50" in result:
        peer = result["peer_p50"]
        print(f"  Open3D VoxelBlockGrid.integrate p50 {peer:.2f} ms over frames "
              f"{EARLY[0]}-{min(EARLY[1], total)}; memory/peer p50 ratio {e50 / peer:.3f}")
    if "cuda_allocated" in result:
        print(f"  torch.cuda.memory_allocated at the end: {result['cuda_allocated']}")
    print(f"  objects in the final snapshot: {result['snapshot_objects']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10000, help="stream length (>= 1100)")
    parser.add_argument("--device", default="all", help="cpu, cuda or all (cpu, plus cuda if present)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--loop", type=int, default=150, help="rendered frames per room loop")
    parser.add_argument("--seed", type=int, default=1, help="sim scene seed")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--no-peer", action="store_true", help="skip the Open3D VoxelBlockGrid peer")
    args = parser.parse_args()
    if args.frames < EARLY[1]:
        parser.error(f"--frames must be at least {EARLY[1]}")
    torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]

    start = time.perf_counter()
    loop = render_loop(args.seed, args.loop, args.width, args.height)
    print(f"rendered {len(loop)} frames {args.width}x{args.height} in {time.perf_counter() - start:.1f} s; "
          f"torch {torch.__version__}, open3d {o3d.__version__}, threads {args.threads}, "
          f"{platform.processor() or platform.machine()}")
    for device in devices:
        report(run(device, loop, args.frames, not args.no_peer), args.frames)


if __name__ == "__main__":
    main()
