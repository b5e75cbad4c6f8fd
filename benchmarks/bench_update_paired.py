"""Per-frame update cost of this checkout against another revision, measured in lock step.

    python benchmarks/bench_update_paired.py --against 96ce720 --frames 1500 --threads 1

The shared machines this project is measured on change speed by 10-20 % within minutes: more than
the changes worth measuring, so two runs one after the other compare the machine, not the code.
Here both versions run side by side in two worker processes fed in lock step on bench_update.py's
stream (one rendered room loop, walked through copies of the room): frame i goes to one worker and
then to the other, the order alternating, and only one works at a time, so whatever slows the
machine slows both alike. The reference revision is exported with `git archive` into a temporary
folder and imported from there; both see the same frames, rendered once by this checkout.

Reported: `SpatialMemory.update` p50 of each over frames 100-1100 and over the last 1000, in
process CPU time (which other work on a shared machine disturbs less) and in wall time (the one to
read on a GPU, whose work the CPU only waits for), the ratio of the p50s (issue 16's target: at
most 1.10 against the code before it, 96ce720), the median of the per-frame ratios, and the ratio
of the means (the throughput; where work is done on some frames only, the p50 alone flatters it).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402  (the OpenMP setting must precede torch)
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("rgb", "depth", "K", "T_world_camera", "timestamp", "index", "instances")


def save_loop(loop, path: Path) -> None:
    """The rendered frames as arrays (labels as JSON): a worker of any revision rebuilds them."""
    arrays = {name: np.stack([getattr(frame, name) for frame in loop]) for name in FIELDS}
    labels = json.dumps([{str(k): v for k, v in frame.labels.items()} for frame in loop])
    np.savez(path, labels=np.array(labels), **arrays)


def load_loop(path: Path):
    from reasmory_ros.memory.frame import Frame

    with np.load(path) as data:
        arrays = {name: data[name] for name in FIELDS}  # each read once: indexing the file reads it all
        labels = json.loads(str(data["labels"]))
    return [Frame(**{name: values[i] for name, values in arrays.items()},
                  labels={int(k): v for k, v in labels[i].items()}) for i in range(len(labels))]


def worker(loop_path: Path, device: str, threads: int, total: int, overrides: dict) -> None:
    """Update one memory (MemoryConfig fields `overrides` changed) with stream frame after
    stream frame, one per line read from stdin; answer each with its process CPU and wall seconds."""
    import torch
    from bench_update import stream, sync_device

    from reasmory_ros.memory import MemoryConfig, SpatialMemory

    torch.set_num_threads(threads)
    memory = SpatialMemory(MemoryConfig(**overrides), device=device)
    frames = stream(load_loop(loop_path), total)
    print("ready", flush=True)
    for _ in sys.stdin:
        frame = next(frames)
        sync_device(memory.device)
        wall, cpu = time.perf_counter(), time.process_time()
        memory.update(frame)
        sync_device(memory.device)
        print(f"{time.process_time() - cpu} {time.perf_counter() - wall}", flush=True)


def export_revision(revision: str, folder: Path) -> Path:
    """The reasmory_ros package of `revision` (git archive) under `folder`."""
    archive = folder / "reference.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "reasmory_ros"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "reference", filter="data")
    return folder / "reference"


def start_worker(tree: Path, loop_path: Path, args, overrides: dict) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(loop_path), "--device", args.device,
         "--threads", str(args.threads), "--frames", str(args.frames), "--config", json.dumps(overrides)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tree)
    line = process.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"the worker on {tree} did not start: {line.strip() or 'no answer'} (see its errors above)")
    return process


def memory_overrides(parser: argparse.ArgumentParser, pairs: list[str]) -> dict:
    """--set FIELD=VALUE pairs as MemoryConfig fields (values read as JSON where they parse)."""
    from reasmory_ros.memory import MemoryConfig

    overrides = {}
    for pair in pairs:
        field, _, text = pair.partition("=")
        try:
            overrides[field] = json.loads(text)
        except json.JSONDecodeError:
            overrides[field] = text
    try:
        MemoryConfig(**overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"--set: {err}")
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="96ce720", help="git revision to compare with (default: before issue 16)")
    parser.add_argument("--frames", type=int, default=1500, help="stream length (>= 1100)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads of each worker")
    parser.add_argument("--loop", type=int, default=150, help="rendered frames per room loop")
    parser.add_argument("--seed", type=int, default=1, help="sim scene seed")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a MemoryConfig field for this checkout's memory only, e.g. box_fit_interval=3 (repeatable)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.device, args.threads, args.frames, json.loads(args.config))
        return
    from bench_update import EARLY, render_loop

    if args.frames < EARLY[1]:
        parser.error(f"--frames must be at least {EARLY[1]}")
    overrides = {"this checkout": memory_overrides(parser, args.set), args.against: {}}

    with tempfile.TemporaryDirectory(prefix="bench-paired-") as tmp:
        folder = Path(tmp)
        loop_path = folder / "loop.npz"
        save_loop(render_loop(args.seed, args.loop, 640, 480), loop_path)
        trees = {"this checkout": ROOT, args.against: export_revision(args.against, folder)}
        workers = {name: start_worker(tree, loop_path, args, overrides[name]) for name, tree in trees.items()}
        seconds = {name: np.zeros((args.frames, 2)) for name in workers}  # CPU, wall
        names = list(workers)
        for i in range(args.frames):
            for name in names if i % 2 == 0 else names[::-1]:
                workers[name].stdin.write("\n")
                workers[name].stdin.flush()
                seconds[name][i] = [float(x) for x in workers[name].stdout.readline().split()]
        for process in workers.values():
            process.stdin.close()
            process.wait()
    this, reference = (seconds[name] * 1e3 for name in names)
    print(f"{args.frames} frames, device {args.device}, {args.threads} torch thread(s) per worker, "
          f"load average {os.getloadavg()[0]:.2f}")
    for first, last in sorted({EARLY, (args.frames - 1000, args.frames)}):
        for column, clock in enumerate(("CPU time", "wall time")):
            a, b = this[first:last, column], reference[first:last, column]
            print(f"  frames {first}-{last}, {clock}: this checkout p50 {np.median(a):.2f} ms, {args.against} "
                  f"p50 {np.median(b):.2f} ms; ratio {np.median(a) / np.median(b):.3f}, "
                  f"median per-frame ratio {np.median(a / b):.3f}, mean ratio {a.mean() / b.mean():.3f}")


if __name__ == "__main__":
    main()
