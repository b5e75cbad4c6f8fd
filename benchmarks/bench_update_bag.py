"""Memory update cost on the frames of one recorded bag: p50/p99 of wall and process CPU time.

    python benchmarks/bench_update_bag.py BAG [--repeats 3] [--threads 1]

The frames are decoded once, then fed `repeats` times to a fresh memory with the default
parameters; only `SpatialMemory.update` is timed. Process CPU time is reported next to wall time
because a shared machine stretches wall time by whatever else runs. To compare two versions of
the code, run this script from both checkouts at the same time on the same bag (same load).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory import SpatialMemory
from reasmory_ros.pipeline import Pipeline
from reasmory_ros.replay.bag import open_bag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bag", type=Path, help="rosbag2 directory (e.g. one written by reasmory-sim)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the frames, each with a fresh memory")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = Settings()
    stream = open_bag(args.bag, settings)
    pipeline = Pipeline.build(stream.settings, instance_topics=stream.has_instances, clock=stream.clock,
                              latency_window=None)
    frames = list(stream.frames(pipeline.assembler))  # decoded as the replay does
    wall, cpu = [], []
    for _ in range(args.repeats):
        memory = SpatialMemory(settings.memory, device="cpu", label_embedder=pipeline.memory.label_embedder)
        for frame in frames:
            w, c = time.perf_counter(), time.process_time()
            memory.update(frame)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
    wall_ms, cpu_ms = 1e3 * np.asarray(wall), 1e3 * np.asarray(cpu)
    print(f"{args.bag}: {len(frames)} frames x {args.repeats}, {len(memory.snapshot().objects)} objects")
    print(f"update wall p50 {np.percentile(wall_ms, 50):.2f} ms p99 {np.percentile(wall_ms, 99):.2f} ms; "
          f"cpu p50 {np.percentile(cpu_ms, 50):.2f} ms p99 {np.percentile(cpu_ms, 99):.2f} ms")


if __name__ == "__main__":
    main()
