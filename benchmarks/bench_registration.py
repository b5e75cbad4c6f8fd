"""Depth registration (depth camera -> colour camera) per frame on the CPU, against a numpy peer.

Prints p50/p99 CPU milliseconds (and wall p50) per 640 x 480 frame of `DepthRegistration` (torch scatter-min z-buffer)
and of the same projection written with numpy's `np.minimum.at` (one splat per pixel), measured in
the same run: a depth camera with the colour camera's optics (footprint 1), a D435-like wider one
(footprint 2 x 2) and one at half resolution (3 x 3).

Run: python benchmarks/bench_registration.py [--frames 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from reasmory_ros.streams.camera import Intrinsics
from reasmory_ros.streams.registration import DepthRegistration


def intrinsics(width: int, height: int, fov_x_deg: float) -> Intrinsics:
    f = width / (2 * np.tan(np.radians(fov_x_deg) / 2))
    return Intrinsics(np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1.0]]), width, height)


def numpy_peer(depth_info: Intrinsics, color_info: Intrinsics, T: np.ndarray):
    """The textbook vectorised numpy version (no footprint): what the torch version is compared to."""
    v, u = np.mgrid[0:depth_info.height, 0:depth_info.width]
    K = depth_info.K
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u, float)]).reshape(3, -1)
    directions = (color_info.K @ T[:3, :3] @ rays).astype(np.float32)
    origin = (color_info.K @ T[:3, 3]).astype(np.float32)[:, None]

    def register(depth):
        z = depth.reshape(-1)
        p = directions * z + origin
        ok = (z > 0) & (p[2] > 1e-3)
        p = p[:, ok]
        col = np.floor(p[0] / p[2] + 0.5).astype(np.int64)
        row = np.floor(p[1] / p[2] + 0.5).astype(np.int64)
        inside = (col >= 0) & (col < color_info.width) & (row >= 0) & (row < color_info.height)
        out = np.full(color_info.height * color_info.width, np.inf, np.float32)
        np.minimum.at(out, row[inside] * color_info.width + col[inside], p[2][inside])
        out[np.isinf(out)] = 0
        return out.reshape(color_info.height, color_info.width)

    return register


def timings(fn, depth, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall and CPU milliseconds per call. With one torch thread all work runs on this thread, so its
    CPU time is the cost of a call even when other processes share the cores (wall time is not)."""
    for _ in range(5):
        fn(depth)
    wall, cpu = [], []
    for _ in range(frames):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn(depth)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return 1e3 * np.asarray(wall), 1e3 * np.asarray(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared: 1 is steadier)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    color = intrinsics(640, 480, 69.0)
    T = np.eye(4)
    T[:3, 3] = [-0.015, 0.0003, 0.0002]  # a RealSense D435's depth -> colour baseline
    for name, depth_info in (("640x480 depth, colour optics", intrinsics(640, 480, 69.0)),
                             ("640x480 depth, D435 87 deg", intrinsics(640, 480, 87.0)),
                             ("320x240 depth, D435 87 deg", intrinsics(320, 240, 87.0))):
        depth = rng.uniform(0.3, 6.0, (depth_info.height, depth_info.width)).astype(np.float32)
        depth[rng.random(depth.shape) < 0.1] = 0.0
        ours = DepthRegistration(depth_info, color, T)
        wall, cpu = timings(ours, depth, args.frames)
        peer_wall, peer_cpu = timings(numpy_peer(depth_info, color, T), depth, args.frames)
        print(f"{name} -> 640x480 colour (footprint {ours.footprint}): DepthRegistration CPU p50 "
              f"{np.percentile(cpu, 50):.2f} ms p99 {np.percentile(cpu, 99):.2f} ms (wall p50 "
              f"{np.percentile(wall, 50):.2f} ms); numpy minimum.at peer CPU p50 {np.percentile(peer_cpu, 50):.2f} "
              f"ms (wall {np.percentile(peer_wall, 50):.2f} ms); ratio {np.percentile(cpu, 50) / np.percentile(peer_cpu, 50):.2f}")


if __name__ == "__main__":
    main()
