"""Fleet replay figures: speed-up over workers, Ray's overhead per bag, embedded start-up.

    python benchmarks/bench_fleet.py --bags 8 --frames 100 --workers 1 2

Simulates BAGS recordings (cached under .cache/bench_fleet), then for each worker count starts an
embedded Ray (timed: start-up), replays every bag with run_fleet (the code behind reasmory-fleet)
and times the whole run. Ray's overhead per bag is measured two ways: the driver's time between
consecutive results minus the task's own time (1 worker, so bags run one after another), and the
round trip of an empty task with the same resource options. Each worker's peak RSS is read in
the worker itself. Ends with a projection of 1000 five-minute bags on a cluster from these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import ray

from reasmory_ros.replay.fleet import CPUS_PER_TASK, BagJob, connect_ray, run_bag, run_fleet, task_memory_bytes
from reasmory_ros.replay.params import load_parameters
from reasmory_ros.replay.pipeline import build_memory
from reasmory_ros.sim.cli import simulate


def recordings(cache: Path, bags: int, frames: int, width: int, height: int) -> list[BagJob]:
    jobs = []
    for seed in range(bags):
        out = cache / f"seed{seed}-frames{frames}-{width}x{height}"
        if not (out / "questions.jsonl").exists():
            simulate(out, seed=seed, frames=frames, width=width, height=height, force=True, progress=True)
        jobs.append(BagJob(f"bag{seed}", out / "bag", out / "questions.jsonl", out / "questions.jsonl"))
    return jobs


def integration_fps(bag: Path, params: dict) -> float:
    """Frames per second of the memory integration alone (this process, second of two passes)."""
    build_memory(bag, params, progress=False)
    _, stats = build_memory(bag, params, progress=False)
    return stats.frames / stats.seconds


def fixed_cost_s(job: BagJob, params: dict, out: Path) -> float:
    """What a bag costs besides integrating its frames (answers, scoring, output files): one
    run_bag minus one build_memory of the same bag, back to back in this process (warm)."""
    run_bag(job, params, out)
    tick = time.perf_counter()
    run_bag(job, params, out)
    whole = time.perf_counter() - tick
    _, stats = build_memory(job.bag, params, progress=False)
    return whole - stats.seconds


def empty_task_round_trip_ms(params: dict, repeats: int = 20) -> float:
    """Median submit-to-result time of a task that does nothing, with the fleet's options."""
    task = ray.remote(lambda: None).options(num_cpus=CPUS_PER_TASK, memory=task_memory_bytes(params))
    ray.get(task.remote())  # a worker process is started once; not part of the per-bag cost
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        ray.get(task.remote())
        times.append(time.perf_counter() - tick)
    return 1e3 * statistics.median(times)


def timed_fleet(jobs, params, workers: int, out: Path, rss_log: Path) -> dict:
    """One run_fleet over `jobs` on the Ray already started; wall time, rows and result arrivals."""
    arrivals = []

    def log_rss(job):  # worker side: the peak RSS of this worker so far (the bags before this one)
        with open(rss_log, "a") as log:
            log.write(f"{os.getpid()} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\n")

    tick = time.perf_counter()
    summary = run_fleet(jobs, out, params, workers=workers, progress=False, before_bag=log_rss,
                        on_row=lambda row: arrivals.append(time.perf_counter()))
    wall = time.perf_counter() - tick
    rows = [summary.rows[job.id] for job in jobs]
    assert all(row["status"] == "ok" for row in rows), rows
    gaps = [b - a for a, b in zip([tick] + arrivals[:-1], arrivals)]
    return {"wall_s": wall, "rows": rows, "gaps": gaps}


def run(jobs, params, workers: int, tmp: Path) -> dict:
    """Start an embedded Ray with `workers` CPUs, run the bags twice: cold (fresh worker
    processes: imports and model loading) and warm (the same workers again)."""
    rss_log = tmp / f"rss{workers}.txt"
    tick = time.perf_counter()
    connect_ray(None, workers)
    startup = time.perf_counter() - tick
    try:
        cold = timed_fleet(jobs, params, workers, tmp / f"cold{workers}", rss_log)
        warm = timed_fleet(jobs, params, workers, tmp / f"warm{workers}", rss_log)
        round_trip = empty_task_round_trip_ms(params) if workers == 1 else None
    finally:
        ray.shutdown()
    peaks = {}
    for line in rss_log.read_text().splitlines():
        pid, kib = map(int, line.split())
        peaks[pid] = max(peaks.get(pid, 0), kib)
    return {"workers": workers, "startup_s": startup, "cold": cold, "warm": warm, "round_trip_ms": round_trip,
            "peak_rss_mb": max(peaks.values()) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bags", type=int, default=8)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench_fleet"))
    parser.add_argument("--project-bags", type=int, default=1000)
    parser.add_argument("--project-minutes", type=float, default=5.0)
    parser.add_argument("--project-fps", type=float, default=30.0, help="colour frames per second of the bags")
    parser.add_argument("--project-size", type=int, nargs=2, default=[640, 480], metavar=("W", "H"),
                        help="image size of the projected bags (their integration rate is measured)")
    parser.add_argument("--project-rate", type=float,
                        help="integration frames/s to project with instead of measuring it here (e.g. "
                             "bench_replay.py's on a quiet machine)")
    parser.add_argument("--project-nodes", type=int, default=32)
    parser.add_argument("--project-cores", type=int, default=8)
    args = parser.parse_args()

    params = load_parameters()
    jobs = recordings(args.cache, args.bags, args.frames, args.width, args.height)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(jobs, params, workers, Path(tmp)) for workers in args.workers]
    print(f"load average after: {os.getloadavg()[0]:.1f}")

    base = results[0]
    print(f"\n{args.bags} bags x {args.frames} frames at {args.width}x{args.height}, default parameters, "
          "rule planner, one torch thread per task; cold = fresh workers, warm = the same workers again")
    print("| workers | embedded Ray start-up (s) | cold wall (s) | cold speed-up | warm wall (s) | warm bags/min "
          "| warm speed-up | worker peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['workers']} | {r['startup_s']:.1f} | {r['cold']['wall_s']:.1f} | "
              f"{base['cold']['wall_s'] / r['cold']['wall_s']:.2f}x | {r['warm']['wall_s']:.1f} | "
              f"{60 * args.bags / r['warm']['wall_s']:.1f} | {base['warm']['wall_s'] / r['warm']['wall_s']:.2f}x | "
              f"{r['peak_rss_mb']:.0f} |")

    one = next(r for r in results if r["workers"] == 1)
    warm = one["warm"]
    overheads = [gap - row["seconds"] for gap, row in zip(warm["gaps"], warm["rows"])]
    bag_s = statistics.median(row["seconds"] for row in warm["rows"])
    frames_per_s = statistics.median(row["frames"] / row["seconds"] for row in warm["rows"])
    warm_up = one["cold"]["rows"][0]["seconds"] - bag_s
    print(f"\nbag on a warm worker: median {bag_s:.2f} s ({frames_per_s:.0f} frames/s per worker, answers included); "
          f"a fresh worker's first bag takes {warm_up:.1f} s more (imports, embedding model)")
    print(f"Ray overhead per bag (driver gap minus task time, warm, 1 worker): median "
          f"{1e3 * statistics.median(overheads):.0f} ms, max {1e3 * max(overheads):.0f} ms")
    print(f"empty task round trip with the fleet's options: {one['round_trip_ms']:.1f} ms")

    # Projection: bags run in waves of (nodes x cores) tasks. A bag costs its frames at the
    # integration rate of the projected image size, plus the fixed part (answers, files) and the
    # Ray overhead measured above; each worker pays its first-bag warm-up once; Ray starts once.
    with tempfile.TemporaryDirectory() as tmp:
        fixed = fixed_cost_s(jobs[0], params, Path(tmp))
    rate = args.project_rate or integration_fps(recordings(args.cache, 1, 60, *args.project_size)[0].bag, params)
    frames = args.project_minutes * 60 * args.project_fps
    print(f"integration: {rate:.0f} frames/s at {args.project_size[0]}x{args.project_size[1]} "
          f"({'given' if args.project_rate else 'measured'}); fixed cost per bag {fixed:.2f} s")
    per_bag = fixed + statistics.median(overheads) + frames / rate
    slots = args.project_nodes * args.project_cores
    waves = -(-args.project_bags // slots)
    total = one["startup_s"] + warm_up + waves * per_bag
    print(f"\nprojection: {args.project_bags} bags of {args.project_minutes:g} min at {args.project_fps:g} fps "
          f"({frames:.0f} frames) on {args.project_nodes} nodes x {args.project_cores} cores = {slots} workers: "
          f"{per_bag:.0f} s per bag, {waves} waves -> {total / 60:.1f} min "
          f"(one worker alone: {args.project_bags * per_bag / 3600:.1f} h)")
    print(json.dumps({"cold_speedup": {r["workers"]: base["cold"]["wall_s"] / r["cold"]["wall_s"] for r in results},
                      "warm_speedup": {r["workers"]: base["warm"]["wall_s"] / r["warm"]["wall_s"] for r in results},
                      "startup_s": [r["startup_s"] for r in results],
                      "overhead_ms": 1e3 * statistics.median(overheads)}))


if __name__ == "__main__":
    main()
