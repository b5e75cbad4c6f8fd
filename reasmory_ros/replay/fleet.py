"""`reasmory-fleet MANIFEST.jsonl --output-dir DIR`: replay many bags on Ray, one task per bag.

Each task runs the replay's own pipeline (`replay_bag`), so a bag's answers are byte-identical to
`reasmory-replay` on it. Workers read bags by path: only the manifest entry goes to a task and only
a small summary row comes back, so no bag bytes travel through the driver. Without `--address` an
embedded Ray starts inside the command; `--address auto` or `ray://HOST:PORT` joins a cluster.

Faults lose nothing: a bag that cannot be replayed gets a `failed` row naming the replay's error,
a worker that dies is retried a bounded number of times, outputs are written atomically (a file
that exists is complete), the summary is rewritten atomically after every bag, and `--resume`
skips the bags whose `ok` row and outputs are there.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reasmory_ros.config.settings import Settings, load_settings
from reasmory_ros.replay.evaluate import EvaluationError, evaluate, read_jsonl
from reasmory_ros.replay.pipeline import write_jsonl

SUMMARY = "summary.jsonl"
ANSWERS = "answers.jsonl"
MEMORY = "memory.npz"
MANIFEST_KEYS = ("id", "bag", "questions", "truth")
CPUS_PER_TASK = 1
"""One CPU and one torch thread per bag: bags are independent, so parallelism across bags scales
better than threads within one replay (whose memory update is a chain of small tensor ops)."""
MAX_RETRIES = 3
"""Re-runs of a bag whose worker or node died; a bag that kills its worker every time fails then."""
OBJECT_STORE_BYTES = 100 * 2**20
"""The embedded Ray's shared-memory store: tasks return only summary rows, so it stays tiny."""
TASK_BASE_BYTES = 1536 * 2**20
"""Reserved per task besides the memory's own state: a worker process with torch, Open3D, the
embedding model and the bag reader loaded plus one bag's read-ahead. benchmarks/bench_fleet.py
measured a 0.65 GB peak RSS (rule planner); the rest is headroom for larger frames and plug-ins."""

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=@-]*")


class ManifestError(ValueError):
    """A manifest line is unusable; the message names the file and the line or bag id."""


@dataclass(frozen=True)
class BagJob:
    """One manifest line, paths resolved against the manifest's folder."""

    id: str
    bag: Path
    questions: Path | None = None
    truth: Path | None = None


def read_manifest(path: str | Path) -> list[BagJob]:
    """All jobs of a manifest, checked before any work: JSON objects with a unique, file-name-safe
    `id`, a `bag` path and optional `questions` / `truth` paths; relative paths are taken from the
    manifest's folder (so a manifest travels with its bags)."""
    path = Path(path)
    try:
        entries = read_jsonl(path)
    except EvaluationError as err:
        raise ManifestError(str(err)) from err
    jobs: list[BagJob] = []
    for entry in entries:
        bag_id = entry["id"]
        where = f"{path}: bag {bag_id!r}"
        unknown = sorted(set(entry) - set(MANIFEST_KEYS))
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(MANIFEST_KEYS)}")
        if not isinstance(bag_id, str) or not _ID.fullmatch(bag_id) or bag_id == SUMMARY:
            raise ManifestError(f"{where}: the id must be letters, digits and ._+=@-, starting with a letter "
                                "or digit (it names the output folder)")
        if any(job.id == bag_id for job in jobs):
            raise ManifestError(f"{where}: the id is listed twice")
        paths = {}
        for key in ("bag", "questions", "truth"):
            value = entry.get(key)
            if value is None and key != "bag":
                continue
            if not isinstance(value, str) or not value:
                raise ManifestError(f"{where}: '{key}' must be a path string; got {value!r}")
            paths[key] = (path.parent / Path(value).expanduser()).absolute()
        jobs.append(BagJob(bag_id, **paths))
    if not jobs:
        raise ManifestError(f"{path}: no bags listed")
    return jobs


def run_bag(job: BagJob, settings: Settings, output_dir: Path, before: Callable[[BagJob], None] | None = None) -> dict:
    """Replay one bag into OUTPUT_DIR/<id>/ and return its summary row (the body of a Ray task).

    An input the replay refuses gives a `failed` row with the replay's message; anything else
    (a bug, a dying worker) propagates, so Ray reports or retries it.
    """
    from reasmory_ros.memory import MemoryFileError
    from reasmory_ros.replay.bag import BagError
    from reasmory_ros.replay.pipeline import replay_bag

    start = time.perf_counter()
    if before is not None:
        before(job)
    out = output_dir / job.id
    try:
        replay = replay_bag(job.bag, settings, job.questions, progress=False)
        records = replay.answer_records()
        score = evaluate(records, read_jsonl(job.truth)).overall if job.truth else None
        out.mkdir(parents=True, exist_ok=True)
        write_jsonl(out / ANSWERS, records)
        replay.memory.save(out / MEMORY)
    # What reasmory-replay reports as an error (questions and truth files raise ValueErrors).
    except (BagError, MemoryFileError, OSError, ValueError) as err:
        return _row(job.id, "failed", start, error=str(err))
    return _row(job.id, "ok", start, frames=replay.stats.frames, questions=sum(r.ok for _, r in replay.results),
                score=score, warnings=replay.stats.warnings or None)


def _row(bag_id: str, status: str, start: float, *, error: str | None = None, frames: int = 0, questions: int = 0,
         score: float | None = None, warnings: list[str] | None = None) -> dict:
    """A summary row in the contract's key order; `error`, `score` and `warnings` only when set."""
    row = {"id": bag_id, "status": status, "error": error, "frames": frames,
           "seconds": round(time.perf_counter() - start, 3), "questions": questions, "score": score,
           "warnings": warnings}
    return {key: value for key, value in row.items() if value is not None}


class Summary:
    """DIR/summary.jsonl, one row per finished bag in manifest order, rewritten atomically after
    each bag so an interrupted run always leaves a valid file."""

    def __init__(self, output_dir: Path, jobs: Sequence[BagJob], resume: bool):
        self.path = output_dir / SUMMARY
        self.output_dir = output_dir
        self.order = [job.id for job in jobs]
        self.rows: dict[str, dict] = {}
        if self.path.exists():
            if not resume:
                raise FileExistsError(f"{self.path} exists: pass --resume to finish that run, or choose "
                                      "another --output-dir")
            wanted = set(self.order)  # rows of bags no longer in the manifest are dropped
            self.rows = {row["id"]: row for row in read_jsonl(self.path) if row["id"] in wanted}

    def complete(self, job: BagJob) -> bool:
        """An `ok` row and both outputs present (outputs are atomic, so present means whole)."""
        row = self.rows.get(job.id)
        folder = self.output_dir / job.id
        return (row is not None and row.get("status") == "ok" and (folder / ANSWERS).is_file()
                and (folder / MEMORY).is_file())

    def add(self, row: dict) -> None:
        self.rows[row["id"]] = row
        write_jsonl(self.path, [self.rows[i] for i in self.order if i in self.rows])

    def table(self) -> str:
        rows = [self.rows[i] for i in self.order if i in self.rows]
        width = max([len("id")] + [len(r["id"]) for r in rows])
        lines = [f"{'id':<{width}}  {'status':<6}  {'frames':>6}  {'seconds':>8}  {'questions':>9}  {'score':>6}  error",
                 "-" * (width + 50)]
        for r in rows:
            score = f"{100 * r['score']:5.1f}%" if "score" in r else ""
            error = r.get("error", "").split("\n")[0]
            error = error if len(error) <= 70 else error[:67] + "..."
            lines.append(f"{r['id']:<{width}}  {r['status']:<6}  {r['frames']:>6}  {r['seconds']:>8.1f}  "
                         f"{r['questions']:>9}  {score:>6}  {error}")
        ok = sum(r["status"] == "ok" for r in rows)
        lines.append(f"{ok} ok, {len(rows) - ok} failed, {len(self.order) - len(rows)} not run")
        return "\n".join(lines)


def connect_ray(address: str | None, workers: int | None) -> bool:
    """Connect to (or start) Ray; returns whether this call started the connection (and so must
    shut it down). An already initialised Ray (a caller's own ray.init) is used as it is."""
    import ray

    if ray.is_initialized():
        return False
    common = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        ray.init(address=address, **common)
    else:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # The bags are this command's own work: run them at its priority, as reasmory-replay would.
        # Ray's default (nice 15) leaves them only the CPU no other process wants.
        os.environ.setdefault("RAY_worker_niceness", str(os.nice(0)))
        ray.init(num_cpus=workers * CPUS_PER_TASK if workers else None, object_store_memory=OBJECT_STORE_BYTES,
                 **common)
    return True


def task_memory_bytes(settings: Settings) -> int:
    """The memory a bag's task reserves: the spatial memory's fixed state plus a worker's base."""
    from reasmory_ros.memory import SpatialMemory

    return TASK_BASE_BYTES + SpatialMemory(settings.memory, device="cpu").allocated_bytes()


def _failed_by_ray(job: BagJob, err: Exception) -> dict:
    """The row of a task Ray gave up on: an exception in the replay, or a worker/node lost more
    than MAX_RETRIES times."""
    cause = getattr(err, "cause", None) or err
    return _row(job.id, "failed", time.perf_counter(), error=f"{type(cause).__name__}: {cause}")


def run_fleet(jobs: Sequence[BagJob], output_dir: str | Path, settings: Settings, *, address: str | None = None,
              workers: int | None = None, resume: bool = False, progress: bool = True,
              on_row: Callable[[dict], None] | None = None,
              before_bag: Callable[[BagJob], None] | None = None) -> Summary:
    """Replay every job not already complete; at most `workers` bags run at once (default: the
    cluster's CPUs). `on_row` sees each row once it is in the summary (the driver side);
    `before_bag` runs in the worker before each bag (per-bag setup; tests inject faults with it).
    KeyboardInterrupt cancels the running tasks and propagates; the summary keeps what finished.
    """
    import ray
    from tqdm import tqdm

    output_dir = Path(output_dir).absolute()
    summary = Summary(output_dir, jobs, resume)
    todo = [job for job in jobs if not summary.complete(job)]
    if not todo:
        return summary
    settings = settings.updated({"torch_threads": CPUS_PER_TASK})
    task = ray.remote(run_bag).options(num_cpus=CPUS_PER_TASK, memory=task_memory_bytes(settings),
                                       max_retries=MAX_RETRIES, retry_exceptions=False)
    started = connect_ray(address, workers)
    pending: dict = {}
    try:
        output_dir.mkdir(parents=True, exist_ok=True)  # after Ray's start: a failed one leaves no folder
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1) // CPUS_PER_TASK))
        queue = iter(todo)
        start, failed = time.perf_counter(), 0
        with tqdm(total=len(todo), unit="bag", desc="fleet", disable=not progress) as bar:
            while True:
                for job in queue:
                    pending[task.remote(job, settings, output_dir, before_bag)] = job
                    if len(pending) >= workers:
                        break
                if not pending:
                    break
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as err:
                    row = _failed_by_ray(job, err)
                summary.add(row)
                bar.update()
                failed += row["status"] != "ok"
                bar.set_postfix_str(f"{60 * bar.n / (time.perf_counter() - start):.1f} bags/min, {failed} failed")
                if on_row is not None:
                    on_row(row)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-fleet",
        description="Replay many rosbag2 recordings on Ray, one task per bag, each running the same "
                    "pipeline as reasmory-replay (identical answers). Embedded local Ray by default; "
                    "--address joins a cluster whose nodes see the bag paths.",
        epilog="MANIFEST.jsonl rows: {\"id\": str, \"bag\": path, \"questions\": path?, \"truth\": path?} "
               "(relative paths from the manifest's folder; truth in the reasmory-eval format).\n"
               "Writes DIR/<id>/answers.jsonl, DIR/<id>/memory.npz and DIR/summary.jsonl rows "
               "{\"id\", \"status\": ok|failed, \"error\"?, \"frames\", \"seconds\", \"questions\" (answered), "
               "\"score\"?, \"warnings\"?}.\n"
               "Example: reasmory-fleet bags.jsonl --output-dir fleet_out --workers 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("manifest", type=Path, help="MANIFEST.jsonl: one bag per line")
    parser.add_argument("--output-dir", type=Path, required=True, help="folder for the outputs and summary.jsonl")
    parser.add_argument("--address", help="join a running Ray cluster: 'auto' (this machine's `ray start`) or "
                                          "ray://HOST:PORT; default: start an embedded Ray")
    parser.add_argument("--workers", type=_positive_int, help="bags replayed at once (default: the cluster's CPUs)")
    parser.add_argument("--params", type=Path, help="the node's parameters YAML, used for every bag")
    parser.add_argument("--resume", action="store_true",
                        help="finish an earlier run into the same --output-dir: skip bags already ok")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        jobs = read_manifest(args.manifest)
        settings = load_settings(args.params)
        summary = run_fleet(jobs, args.output_dir, settings, address=args.address, workers=args.workers,
                            resume=args.resume, progress=not args.no_progress)
    except (ValueError, OSError) as err:  # manifest, parameters, an earlier run's summary, Ray unreachable
        print(f"reasmory-fleet: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"reasmory-fleet: interrupted; {args.output_dir / SUMMARY} lists the bags that finished "
              "(rerun with --resume to do the rest)", file=sys.stderr)
        return 130
    print(summary.table())
    return 0 if all(row["status"] == "ok" for row in summary.rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
