"""Per-frame cost of SpatialMemory.update over a long stream, against Open3D's VoxelBlockGrid.

The stream: one rendered loop (reasmory_ros.sim, 640x480 RGB-D + instances) around a furnished
room, replayed in copies of the room placed side by side (each loop 10 m further along x), so the
robot keeps meeting new objects and new space: the object table, keyframe store, trajectory and
voxel map all fill up and run their eviction/thinning paths, the worst case for flatness.

Reported per device: p50/p99 update latency (wall clock, and process CPU time, which shared
machines disturb less) over frames 100-1100 (early) and the last 1000 frames (late), their p50
ratio (target <= 1.10) and p99/p50 (target <= 1.5), the memory's state bytes at frame 1000 and at
the end (must be equal), snapshot() latency on the full memory right after an update, and Open3D
VoxelBlockGrid.integrate (TSDF, the same frames 0-1100, same voxel size, timed in the same run
just before the memory) as a peer ratio.

    python benchmarks/bench_update.py --frames 10000 --device cpu --threads 2 1

OpenMP threads are made to sleep rather than spin between parallel regions (OMP_WAIT_POLICY=
PASSIVE unless set): Open3D's spinning workers would otherwise steal the CPU from torch's.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402  (the OpenMP setting must precede torch and open3d)
import dataclasses  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import open3d as o3d  # noqa: E402
import torch  # noqa: E402

from reasmory_ros.memory import MemoryConfig, SpatialMemory  # noqa: E402
from reasmory_ros.sim import camera_trajectory, generate_scene, render_sequence  # noqa: E402

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
    """Open3D's tensor TSDF integration of the same frames (the peer docs/benchmarks.md compares against)."""

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


def sync_device(device: torch.device) -> None:
    """Wait for the GPU's queued work, so a timer around an update measures the update."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def percentiles(values_ms: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(values_ms, 50)), float(np.percentile(values_ms, 99))


def run_peer(device_name: str, loop, config: MemoryConfig) -> float:
    """p50 (ms) of VoxelBlockGrid.integrate over frames 100-1100 of the same stream."""
    vbg = VoxelBlockGridPeer(config.voxel_size, config.max_depth, device_name)
    latency = []
    for frame in stream(loop, PEER_FRAMES):
        start = time.perf_counter()
        vbg.integrate(frame)
        latency.append(time.perf_counter() - start)
    return percentiles(np.array(latency[EARLY[0]:]) * 1e3)[0]


def run(device_name: str, loop, total: int, peer: bool) -> dict:
    config = MemoryConfig()
    result = {"peer_p50": run_peer(device_name, loop, config)} if peer else {}
    memory = SpatialMemory(config, device=device_name)
    device = memory.device
    wall = np.zeros(total)
    cpu = np.zeros(total)
    snapshot_ms = []
    bytes_at = {}
    late = (max(total - 1000, 0), total)
    for i, frame in enumerate(stream(loop, total)):
        sync_device(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        memory.update(frame)
        sync_device(device)
        wall[i], cpu[i] = time.perf_counter() - start, time.process_time() - start_cpu
        if i + 1 in (1000, total):
            bytes_at[i + 1] = memory.allocated_bytes()
        if i >= late[0] and i % 10 == 0:
            start = time.perf_counter()
            memory.snapshot()
            snapshot_ms.append((time.perf_counter() - start) * 1e3)
    early = slice(EARLY[0], min(EARLY[1], total))
    snapshot = memory.snapshot()
    result.update({
        "device": str(device),
        "early": percentiles(wall[early] * 1e3),
        "late": percentiles(wall[late[0]:late[1]] * 1e3),
        "early_cpu": percentiles(cpu[early] * 1e3),
        "late_cpu": percentiles(cpu[late[0]:late[1]] * 1e3),
        "late_range": late,
        "bytes": bytes_at,
        "snapshot": percentiles(np.array(snapshot_ms)),
        "contents": (len(snapshot.objects), len(snapshot.keyframes), len(snapshot.trajectory),
                     len(snapshot.scene_map.points)),
    })
    if device.type == "cuda":
        result["cuda_allocated"] = torch.cuda.memory_allocated(device)
    return result


def report(result: dict, total: int) -> None:
    lo, hi = result["late_range"]
    print(f"device {result['device']}, {total} frames")
    for name, (a, b) in (("early", (EARLY[0], min(EARLY[1], total))), ("late", (lo, hi))):
        (p50, p99), (c50, c99) = result[name], result[f"{name}_cpu"]
        print(f"  frames {a}-{b}: p50 {p50:.2f} ms  p99 {p99:.2f} ms  p99/p50 {p99 / p50:.2f}   "
              f"(CPU time p50 {c50:.2f} ms  p99 {c99:.2f} ms  p99/p50 {c99 / c50:.2f})")
    print(f"  late/early p50 ratio {result['late'][0] / result['early'][0]:.3f}  "
          f"(CPU time {result['late_cpu'][0] / result['early_cpu'][0]:.3f}; target <= 1.10)")
    for frame, nbytes in sorted(result["bytes"].items()):
        print(f"  state bytes at frame {frame}: {nbytes}")
    if "peer_p50" in result:
        peer = result["peer_p50"]
        print(f"  Open3D VoxelBlockGrid.integrate p50 {peer:.2f} ms (frames {EARLY[0]}-{EARLY[1]}); "
              f"memory/peer p50 ratio {result['early'][0] / peer:.3f}")
    print("  snapshot() on the full memory after an update: p50 {:.2f} ms  p99 {:.2f} ms".format(
        *result["snapshot"]))
    if "cuda_allocated" in result:
        print(f"  torch.cuda.memory_allocated at the end: {result['cuda_allocated']}")
    print("  final snapshot: {} objects, {} keyframes, {} trajectory poses, {} map voxels".format(
        *result["contents"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10000, help="stream length (>= 1100)")
    parser.add_argument("--device", default="all", help="cpu, cuda or all (cpu, plus cuda if present)")
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="torch CPU thread counts to run (e.g. 2 1)")
    parser.add_argument("--loop", type=int, default=150, help="rendered frames per room loop")
    parser.add_argument("--seed", type=int, default=1, help="sim scene seed")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--no-peer", action="store_true", help="skip the Open3D VoxelBlockGrid peer")
    args = parser.parse_args()
    if args.frames < EARLY[1]:
        parser.error(f"--frames must be at least {EARLY[1]}")
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]

    start = time.perf_counter()
    loop = render_loop(args.seed, args.loop, args.width, args.height)
    print(f"rendered {len(loop)} frames {args.width}x{args.height} in {time.perf_counter() - start:.1f} s; "
          f"torch {torch.__version__}, open3d {o3d.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.2f}")
    for device in devices:
        for threads in args.threads if device == "cpu" else args.threads[:1]:
            torch.set_num_threads(threads)
            print(f"torch threads {threads}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
            report(run(device, loop, args.frames, not args.no_peer), args.frames)
            print(f"  load average after the run {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
