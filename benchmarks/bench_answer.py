"""Answer latency per question type on a full memory, excluding any language model.

    python benchmarks/bench_answer.py --seeds 0 1 2 --frames 300

For each seed the recording of bench_replay.py (simulated once, cached under .cache/bench) is
replayed into a memory with the default parameters; its final snapshot is "scan". "filled" is the
same snapshot with the object table topped up to `memory.max_objects` records by synthetic boxes
(labels no question names, sampled with as many points as the memory keeps per object), so every
per-object path sees a full table; the map is the scan's (its voxel count is printed).

Every question of questions.jsonl, plus one everyday question per everyday intent (where is it,
what is near / on / under / between, which is bigger, is there, when seen, how far walked, colour;
`EVERYDAY` below, filled with labels the scan holds once), is answered with `answer_question(question, options, snapshot)`
(rule-based planner, one torch thread) in three ways:

- first: one pass in a fresh process, sentence embedder loaded but nothing embedded yet (first
  seed's scan only);
- cold: each question on a new snapshot (same data, new identity), so everything derived per
  snapshot (floor and route grids) is built again, as after every frame in the node; one untimed
  pass before has embedded the labels and the question words, as a running node has;
- warm: `--repeats` passes on the snapshot of that untimed pass.

Prints p50 / p99 per question type and overall in milliseconds, wall clock and process CPU time
(which the other work on a shared machine disturbs less), ready to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from bench_replay import recording

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory.snapshot import MemorySnapshot, ObjectRecord
from reasmory_ros.planning import RuleBasedPlanner, answer_question
from reasmory_ros.replay.pipeline import build_memory, read_questions

FILLER_LABELS = tuple("""
    guitar piano mirror clock fan heater radiator printer speaker basket crate towel blanket hat
    shoe boot umbrella broom mop bucket ladder vacuum iron globe candle statue trophy drum violin
    skateboard bicycle helmet ball puzzle sponge soap shampoo toothbrush razor thermostat router
    projector whiteboard envelope stapler scissors tape glue ruler eraser marker pen pencil remote
    headphones tripod charger cable toolbox hammer wrench drill kite doll lantern
""".split())
"""Labels of the synthetic objects: household things that none of the benchmark's questions name."""


def _box_surface(rng: np.random.Generator, center: np.ndarray, extent: np.ndarray, n: int) -> np.ndarray:
    """n points uniformly on the faces of an axis-aligned box."""
    local = rng.uniform(-0.5, 0.5, (n, 3))
    face = rng.integers(0, 3, n)
    local[np.arange(n), face] = rng.choice([-0.5, 0.5], n)
    return (local * extent + center).astype(np.float32)


def filled(snapshot: MemorySnapshot, capacity: int, points: int, seed: int) -> MemorySnapshot:
    """The snapshot with synthetic boxes on the floor, inside the mapped area, up to `capacity`."""
    rng = np.random.default_rng(seed)
    xyz = np.asarray(snapshot.scene_map.points, dtype=np.float64)
    low, high = np.percentile(xyz[:, :2], [5, 95], axis=0)
    floor_z = float(np.percentile(xyz[:, 2], 1))
    trajectory = snapshot.trajectory
    next_id = max((o.id for o in snapshot.objects), default=-1) + 1
    extra = []
    for k in range(capacity - len(snapshot.objects)):
        extent = rng.uniform([0.1, 0.1, 0.1], [1.2, 0.8, 1.5])
        center = np.append(rng.uniform(low, high), floor_z + extent[2] / 2)
        first, last = sorted(rng.integers(0, len(trajectory), 2))
        cloud = _box_surface(rng, center, extent, points)
        label = FILLER_LABELS[k % len(FILLER_LABELS)]
        extra.append(ObjectRecord(
            id=next_id + k, label=label, label_histogram={label: 1.0}, center=center, extent=extent,
            yaw=0.0, points=cloud, first_seen_frame=int(trajectory.frame_indices[first]),
            first_seen_time=float(trajectory.timestamps[first]), last_seen_frame=int(trajectory.frame_indices[last]),
            last_seen_time=float(trajectory.timestamps[last]), observations=int(rng.integers(2, 50)),
            centroid=cloud.mean(axis=0).astype(np.float64)))
    return dataclasses.replace(snapshot, objects=snapshot.objects + tuple(extra))


EVERYDAY = {
    "locate": "Where is the {a}?", "color": "What colour is the {a}?", "nearest_any": "What is the closest object to the {a}?",
    "within": "What is within 1.5 m of the {a}?", "between": "What is between the {a} and the {b}?",
    "next_to": "What is next to the {a}?", "on": "What is on the {a}?", "under": "What is under the {a}?",
    "taller": "Which is taller, the {a} or the {b}?", "bigger": "Is the {a} bigger than the {b}?",
    "closer": "Which is closer to me, the {a} or the {b}?", "inventory": "What objects are in the room?",
    "total": "How many objects are there in total?", "exists": "Is there a piano?",
    "last_seen": "When did I last see the {a}?", "latest": "Which object did I see last?",
    "time_in_view": "How long was the {a} in view?", "travelled": "How far did I walk in total?",
    "elapsed": "How long did the walk take?", "largest": "Where is the largest {r}?",
}
"""One question per everyday intent, type "everyday_<intent>"."""


def everyday_rows(snapshot: MemorySnapshot) -> list[dict]:
    """EVERYDAY filled with the scan's labels: {a}, {b} held once, {r} held several times."""
    counts = snapshot.label_counts()
    once = sorted(label for label, n in counts.items() if n == 1)
    several = sorted(label for label, n in counts.items() if n > 1) or once
    rows = []
    for i, (intent, template) in enumerate(EVERYDAY.items()):
        a, b = once[i % len(once)], once[(i + 1) % len(once)]
        rows.append({"type": f"everyday_{intent}", "question": template.format(a=a, b=b, r=several[0])})
    return rows


def _timed(row: dict, snapshot: MemorySnapshot) -> tuple[tuple[float, float], dict]:
    """((wall ms, CPU ms), the answer's gist) of one question."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = answer_question(row["question"], row.get("options"), snapshot)
    spent = ((time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3)
    return spent, {"answer": result.answer, "program": result.program, "ok": result.ok}


def measure(rows: list[dict], snapshot: MemorySnapshot, repeats: int) -> tuple[dict, list[dict]]:
    """{'cold'|'warm': {type: [(wall ms, CPU ms)]}} and the answers, one per question."""
    for row in rows:  # untimed: embeds the labels and words, builds the snapshot's grids
        _timed(row, snapshot)
    times: dict = {"cold": defaultdict(list), "warm": defaultdict(list)}
    answers = []
    for row in rows:
        spent, answer = _timed(row, dataclasses.replace(snapshot))
        times["cold"][row["type"]].append(spent)
        answers.append(answer)
    for _ in range(repeats):
        for row in rows:
            times["warm"][row["type"]].append(_timed(row, snapshot)[0])
    return times, answers


def _cells(spent) -> str:
    """'wall p50 / p99 | CPU p50 / p99' of (wall, CPU) pairs."""
    spent = np.asarray(spent).reshape(-1, 2)
    return " | ".join(f"{np.percentile(spent[:, k], 50):.2f} / {np.percentile(spent[:, k], 99):.2f}" for k in (0, 1))


def table(title: str, times: dict, first: list) -> str:
    """Markdown rows: per type and overall, cold and warm p50 / p99, wall and CPU."""
    lines = [f"\n### {title}\n",
             "| question type | n | cold wall ms p50 / p99 | cold CPU ms | warm wall ms | warm CPU ms |",
             "| --- | --- | --- | --- | --- | --- |"]
    for qtype in sorted(times["cold"]):
        lines.append(f"| {qtype} | {len(times['cold'][qtype])} | {_cells(times['cold'][qtype])} | "
                     f"{_cells(times['warm'][qtype])} |")
    cold = [s for v in times["cold"].values() for s in v]
    warm = [s for v in times["warm"].values() for s in v]
    lines.append(f"| **all** | {len(cold)} | {_cells(cold)} | {_cells(warm)} |")
    if first:
        lines.append(f"\nfirst pass in a fresh process (nothing embedded yet), wall | CPU p50 / p99 ms: "
                     f"{_cells(first)}; max wall {max(s[0] for s in first):.1f} ms")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="timed warm passes over the questions")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--json", type=Path, help="also write the raw latencies here")
    args = parser.parse_args()

    settings = Settings()
    torch.set_num_threads(1)
    RuleBasedPlanner().embedder  # noqa: B018 - load the model now: its load time is no answer's
    merged = {name: {"cold": defaultdict(list), "warm": defaultdict(list)} for name in ("scan", "filled")}
    first: list = []
    changed = total = 0
    for seed in args.seeds:
        out = recording(args.cache, seed, args.frames)
        memory, stats = build_memory(out / "bag", settings, progress=False)
        scan = memory.snapshot()
        rows = read_questions(out / "questions.jsonl") + everyday_rows(scan)
        if seed == args.seeds[0]:
            first = [_timed(row, scan)[0] for row in rows]
        full = filled(scan, settings.memory.max_objects, settings.memory.object_points, seed)
        print(f"seed {seed}: {stats.frames} frames, {len(scan.scene_map.points)} map voxels "
              f"(capacity {settings.memory.map_capacity}), {len(scan.objects)} objects scanned, "
              f"{len(full.objects)} filled, {len(rows)} questions", flush=True)
        answers = {}
        for name, snapshot in (("scan", scan), ("filled", full)):
            times, answers[name] = measure(rows, snapshot, args.repeats)
            for kind in times:
                for qtype, values in times[kind].items():
                    merged[name][kind][qtype] += values
        changed += sum(a != b for a, b in zip(answers["scan"], answers["filled"]))
        total += len(rows)

    print(f"\nseeds {args.seeds}, {args.frames} frames each; torch threads 1; {args.repeats} warm passes")
    print(table("scan: the memory after the scan", merged["scan"], first))
    print(table("filled: the scan plus synthetic objects up to the object table's capacity", merged["filled"], []))
    print(f"\nanswers that differ between scan and filled: {changed} of {total}")
    if args.json:
        args.json.write_text(json.dumps({"first": first, **merged}))


if __name__ == "__main__":
    main()
