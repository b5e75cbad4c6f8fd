"""Fleet replay figures: speed-up over workers, Ray's overhead per bag, embedded start-up.

    python benchmarks/bench_fleet.py --bags 8 --frames 100 --workers 1 2 --rounds 3

Simulates BAGS recordings (cached under .cache/bench_fleet) and replays them with run_fleet (the
code behind reasmory-fleet) on one embedded Ray:
- start-up: ray.init of the embedded Ray, timed (median of three starts);
- a cold run with 1 worker: the first bag of a fresh worker pays imports and model loading, and
  the driver's time between consecutive results minus the task's own time is Ray's overhead per
  bag (scheduling and result transfer; bags run one after another); an empty task's round trip
  with the same options is printed next to it;
- ROUNDS paired rounds on warm workers, each running all bags once per worker count, so a change
  in the shared machine's load hits both counts alike; the speed-up is the median of the rounds'
  ratios.
Each worker's peak RSS is read in the worker itself. Ends with a projection of 1000 five-minute
bags on a cluster from these figures.
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

from reasmory_ros.config.settings import Settings, load_settings
from reasmory_ros.replay.fleet import CPUS_PER_TASK, BagJob, connect_ray, run_bag, run_fleet, task_memory_bytes
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


def integration_fps(bag: Path, settings: Settings) -> float:
    """Frames per second of the memory integration alone (this process, second of two passes)."""
    build_memory(bag, settings, progress=False)
    _, stats = build_memory(bag, settings, progress=False)
    return stats.frames / stats.seconds


def fixed_cost_s(job: BagJob, settings: Settings, out: Path) -> float:
    """What a bag costs besides integrating its frames (answers, scoring, output files): one
    run_bag minus one build_memory of the same bag, back to back in this process (warm)."""
    run_bag(job, settings, out)
    tick = time.perf_counter()
    run_bag(job, settings, out)
    whole = time.perf_counter() - tick
    _, stats = build_memory(job.bag, settings, progress=False)
    return whole - stats.seconds


def empty_task_round_trip_ms(settings: Settings, repeats: int = 20) -> float:
    """Median submit-to-result time of a task that does nothing, with the fleet's options."""
    task = ray.remote(lambda: None).options(num_cpus=CPUS_PER_TASK, memory=task_memory_bytes(settings))
    ray.get(task.remote())  # a worker process is started once; not part of the per-bag cost
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        ray.get(task.remote())
        times.append(time.perf_counter() - tick)
    return 1e3 * statistics.median(times)


def timed_fleet(jobs, settings, workers: int, out: Path, rss_log: Path) -> dict:
    """One run_fleet over `jobs` on the Ray already started; wall time, rows and result arrivals."""
    arrivals = []

    def log_rss(job):  # worker side: the peak RSS of this worker so far (the bags before this one)
        with open(rss_log, "a") as log:
            log.write(f"{os.getpid()} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\n")

    tick = time.perf_counter()
    summary = run_fleet(jobs, out, settings, workers=workers, progress=False, before_bag=log_rss,
                        on_row=lambda row: arrivals.append(time.perf_counter()))
    wall = time.perf_counter() - tick
    rows = [summary.rows[job.id] for job in jobs]
    assert all(row["status"] == "ok" for row in rows), rows
    gaps = [b - a for a, b in zip([tick] + arrivals[:-1], arrivals)]
    return {"wall_s": wall, "rows": rows, "gaps": gaps}


def startup_s(workers: int, starts: int = 3) -> float:
    """Median time of ray.init for an embedded Ray with `workers` CPUs (each start shut down)."""
    times = []
    for _ in range(starts):
        tick = time.perf_counter()
        connect_ray(None, workers)
        times.append(time.perf_counter() - tick)
        ray.shutdown()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bags", type=int, default=8)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench_fleet"))
    parser.add_argument("--project-bags", type=int, default=1000)
    parser.add_argument("--project-minutes", type=float, default=5.0)
    parser.add_argument("--project-fps", type=float, default=30.0, help="colour frames per second of the bags")
    parser.add_argument("--project-nodes", type=int, default=32)
    parser.add_argument("--project-cores", type=int, default=8)
    parser.add_argument("--project-size", type=int, nargs=2, default=[640, 480], metavar=("W", "H"),
                        help="image size of the projected bags (their integration rate is measured)")
    parser.add_argument("--project-rate", type=float, nargs="*", default=[],
                        help="more integration rates (frames/s) to project with besides the one measured "
                             "here, e.g. bench_replay.py's on a quiet machine")
    args = parser.parse_args()

    settings = load_settings()
    jobs = recordings(args.cache, args.bags, args.frames, args.width, args.height)
    most = max(args.workers)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    start = startup_s(most)
    walls = {w: [] for w in args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rss_log = tmp / "rss.txt"
        connect_ray(None, most)
        try:
            cold = timed_fleet(jobs, settings, 1, tmp / "cold", rss_log)
            timed_fleet(jobs, settings, most, tmp / "warm-up", rss_log)  # every worker has run a bag
            for r in range(args.rounds):
                for w in args.workers:
                    walls[w].append(timed_fleet(jobs, settings, w, tmp / f"r{r}w{w}", rss_log)["wall_s"])
            round_trip = empty_task_round_trip_ms(settings)
        finally:
            ray.shutdown()
        peak_kib = max(int(line.split()[1]) for line in rss_log.read_text().splitlines())
        fixed = fixed_cost_s(jobs[0], settings, tmp / "fixed")
    print(f"load average after: {os.getloadavg()[0]:.1f}")

    base = args.workers[0]
    print(f"\n{args.bags} bags x {args.frames} frames at {args.width}x{args.height}, default parameters, "
          f"rule planner, one torch thread per task, warm workers, {args.rounds} paired rounds")
    print("| workers | wall per round (s) | median wall (s) | bags/min | speed-up (median of rounds) |")
    print("| --- | --- | --- | --- | --- |")
    for w in args.workers:
        ratio = statistics.median(b / x for b, x in zip(walls[base], walls[w]))
        print(f"| {w} | {', '.join(f'{x:.1f}' for x in walls[w])} | {statistics.median(walls[w]):.1f} | "
              f"{60 * args.bags / statistics.median(walls[w]):.1f} | {ratio:.2f}x |")

    overheads = [gap - row["seconds"] for gap, row in zip(cold["gaps"][1:], cold["rows"][1:])]
    bag_s = statistics.median(row["seconds"] for row in cold["rows"][1:])
    warm_up = cold["rows"][0]["seconds"] - bag_s
    print(f"\nembedded Ray start-up: {start:.1f} s (median of 3)")
    print(f"bag on a warm worker: median {bag_s:.2f} s; a fresh worker's first bag takes {warm_up:.1f} s more "
          f"(imports, embedding model); worker peak RSS {peak_kib / 1024:.0f} MB")
    print(f"Ray overhead per bag (driver gap minus task time, 1 worker): median "
          f"{1e3 * statistics.median(overheads):.0f} ms, max {1e3 * max(overheads):.0f} ms; empty task round "
          f"trip {round_trip:.1f} ms")

    # Projection: bags run in waves of (nodes x cores) tasks. A bag costs its frames at the
    # integration rate of the projected image size, plus the fixed part (answers, files) and the
    # Ray overhead measured above; each worker pays its first-bag warm-up once; Ray starts once.
    measured = integration_fps(recordings(args.cache, 1, 60, *args.project_size)[0].bag, settings)
    frames = args.project_minutes * 60 * args.project_fps
    slots = args.project_nodes * args.project_cores
    waves = -(-args.project_bags // slots)
    print(f"fixed cost per bag (answers, files): {fixed:.2f} s")
    for rate in [measured, *args.project_rate]:
        per_bag = fixed + statistics.median(overheads) + frames / rate
        total = start + warm_up + waves * per_bag
        source = "measured here" if rate == measured else "given"
        print(f"projection at {rate:.0f} frames/s ({source}, {args.project_size[0]}x{args.project_size[1]}): "
              f"{args.project_bags} bags of {args.project_minutes:g} min at {args.project_fps:g} fps ({frames:.0f} "
              f"frames) on {args.project_nodes} nodes x {args.project_cores} cores = {slots} workers: {per_bag:.0f} s "
              f"per bag, {waves} waves -> {total / 60:.1f} min (one worker alone: "
              f"{args.project_bags * per_bag / 3600:.1f} h)")
    print(json.dumps({"walls": walls, "startup_s": start, "overhead_ms": 1e3 * statistics.median(overheads)}))


if __name__ == "__main__":
    main()
