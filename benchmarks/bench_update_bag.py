"""Memory update cost on the frames of one recorded bag: p50/p99 of wall and process CPU time.

    python benchmarks/bench_update_bag.py BAG [--repeats 3] [--threads 1]

The frames are decoded once, then fed `repeats` times to a fresh memory with the default
parameters; only `SpatialMemory.update` is timed. Process CPU time is reported next to wall time
because a shared machine stretches wall time by whatever else runs. To compare two versions of
the code, run this script from both checkouts at the same time on the same bag (same load).

Then `snapshot()` of the final memory is built `--snapshots` times (each on a fresh copy of the
memory, loaded from its saved file, so nothing is cached), with `memory.hidden_depth` on and off
alternately: the cost of completing the boxes of objects seen only from the front.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
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
    parser.add_argument("--snapshots", type=int, default=5, help="snapshot() builds timed per setting")
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
    snapshot_cost(memory, args.snapshots)


def snapshot_cost(memory: SpatialMemory, count: int) -> None:
    """Print the p50 wall and CPU time of snapshot() on copies of `memory`, hidden depth on / off."""
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    completed = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "memory.npz"
        memory.save(path)
        for _ in range(count):
            for hidden_depth in (True, False):
                copy = SpatialMemory.from_file(path)
                copy.config = dataclasses.replace(copy.config, hidden_depth=hidden_depth)
                w, c = time.perf_counter(), time.process_time()
                objects = copy.snapshot().objects
                times[hidden_depth].append((time.perf_counter() - w, time.process_time() - c))
                completed = max(completed, sum(1 for o in objects if o.hidden_depth))
    for hidden_depth, pairs in times.items():
        wall_ms, cpu_ms = 1e3 * np.median(np.asarray(pairs), axis=0)
        print(f"snapshot() with hidden_depth={hidden_depth}: wall p50 {wall_ms:.2f} ms, cpu p50 {cpu_ms:.2f} ms"
              + (f" ({completed} boxes completed)" if hidden_depth else ""))

if __name__ == "__main__":
    main()
