"""Offline replay figures: frames per second, answer latency and peak memory on this machine.

    python benchmarks/bench_replay.py --seeds 0 1 2 --frames 300 [--modes clean noisy]

For each seed: simulate a recording (cached under .cache/bench), replay it with the default
parameters (or those of --params FILE.yaml, the node's parameters file) and the rule-based
planner, score the answers (VSI-Bench MRA / exact match per type), and time every question again
against the final memory (answer latency excluding any language model, cold = first question on
a new snapshot, warm = the rest), and score the memory's objects against the ground truth
(precision, recall, duplicates, labels, box errors). Mode `noisy` records with the simulator's
detector-noise mode (default `DetectorNoise`), mode `nodrift` the same with the pose drift
switched off (what the masks' errors alone cost); --noise-set NAME=VALUE (as reasmory-sim's)
changes the noise of both, for noise the memory was not tuned on. Mode `ideal` is clean with an
ideal depth sensor as well (`reasmory-sim --no-noise`: exact depth, no holes), a sensor the memory
was not tuned on either. Prints one table per seed and
the mean over seeds per mode, ready to paste into docs/benchmarks.md. --misses lists every
well-seen object the memory misses, with the memory box nearest to it and where its points lie;
--extras every memory object that matches no true object (false positives, parts, copies).

    python benchmarks/bench_replay.py --seeds 0 --frames 300 --record --rerun

adds the cost of the replay's outputs: the same bag is replayed without and with an MCAP
(--record) and/or a Rerun recording (--rerun), alternately `--output-repeats` times each (best
of each kept, as this machine is shared), and the frame loop's throughput drop is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from reasmory_ros.config.settings import Settings, load_settings
from reasmory_ros.planning import answer_question
from reasmory_ros.replay.evaluate import evaluate
from reasmory_ros.replay.object_metrics import camera_position_error, extras, misses, object_metrics, pose_bound
from reasmory_ros.replay.pipeline import answer_all, answer_record, build_memory, read_questions
from reasmory_ros.sim.cli import simulate
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.noise import DetectorNoise

DETECTOR_NOISE_MODES = ("noisy", "nodrift")
"""The modes recorded with the simulator's detector noise (which --noise-set changes)."""


def recording(cache: Path, seed: int, frames: int, mode: str = "clean", noise_set: tuple[str, ...] = ()) -> Path:
    """The cached recording of one seed and mode; `noise_set` ("NAME=VALUE", as reasmory-sim
    --noise-set) changes the detector noise of modes noisy and nodrift, and names its own folder.
    Mode ideal renders with the ideal depth sensor (exact depth, no holes) and perfect instances."""
    detector_noise = mode in DETECTOR_NOISE_MODES
    tag = "".join(f"-{text.replace('=', '').replace(',', '_')}" for text in noise_set) if detector_noise else ""
    if len(tag) > 200:  # the folder name must stay under the file system's 255 bytes
        tag = "-noise" + hashlib.sha1(tag.encode()).hexdigest()[:12]
    out = cache / (f"seed{seed}-frames{frames}" + ("" if mode == "clean" else f"-{mode}{tag}"))
    if not (out / "questions.jsonl").exists():
        noise = None
        if detector_noise:
            drift = [] if mode == "noisy" else ["drift_translation=0", "drift_yaw=0"]
            noise = DetectorNoise.parse_assignments(drift + list(noise_set))
        simulate(out, seed=seed, frames=frames, force=True, progress=True, detector_noise=noise, noise=mode != "ideal")
    return out


def time_answers(rows, snapshot, repeats: int) -> tuple[float, np.ndarray]:
    """(cold latency of the first question, warm latencies in ms of every question x repeats)."""
    tick = time.perf_counter()
    answer_question(rows[0]["question"], rows[0].get("options"), snapshot)
    cold = (time.perf_counter() - tick) * 1e3
    warm = []
    for _ in range(repeats):
        for row in rows:
            tick = time.perf_counter()
            answer_question(row["question"], row.get("options"), snapshot)
            warm.append((time.perf_counter() - tick) * 1e3)
    return cold, np.asarray(warm)


def output_cost(bag: Path, settings: Settings, record: bool, rerun: bool, repeats: int) -> str:
    """Throughput of the frame loop without and with the recorders (best of `repeats` each, in
    wall time and in this process's CPU time, which other load on a shared machine disturbs
    less), and the time the recorders take to finish after it (final state and answers)."""
    from reasmory_ros.replay.record import McapRecorder
    from reasmory_ros.replay.rerun_log import RerunRecorder

    wall = {"plain": [], "outputs": []}
    cpu = {"plain": [], "outputs": []}
    finish = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            for variant in ("plain", "outputs"):
                recorders = []
                if variant == "outputs":
                    recorders = ([McapRecorder(Path(folder) / "run.mcap", settings.node)] if record else []) + (
                        [RerunRecorder(Path(folder) / "run.rrd", settings.node)] if rerun else [])
                on_frame = (lambda step, recorders=recorders: [r.step(step) for r in recorders]) if recorders else None
                tick = time.process_time()
                _, stats = build_memory(bag, settings, progress=False, on_frame=on_frame)
                cpu[variant].append((time.process_time() - tick) / stats.frames * 1e3)
                wall[variant].append(stats.frames / stats.seconds)
                tick = time.perf_counter()
                for recorder in recorders:
                    recorder.finish([])
                if recorders:
                    finish.append(time.perf_counter() - tick)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 2**20:.1f} MiB" for p in sorted(Path(folder).iterdir()))
    outputs = " + ".join(name for name, on in (("--record", record), ("--rerun", rerun)) if on)
    plain, recorded = max(wall["plain"]), max(wall["outputs"])
    cpu_plain, cpu_recorded = min(cpu["plain"]), min(cpu["outputs"])
    return (f"outputs {outputs} (best of {repeats}): wall {plain:.1f} -> {recorded:.1f} frames/s "
            f"({100 * (1 - recorded / plain):+.1f} % slower); CPU {cpu_plain:.1f} -> {cpu_recorded:.1f} ms/frame "
            f"({100 * (cpu_recorded / cpu_plain - 1):+.1f} %); finishing {min(finish):.2f} s; {sizes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench"))
    parser.add_argument("--modes", nargs="+", choices=("clean", "noisy", "nodrift", "ideal"), default=["clean"],
                        help="clean: perfect instances and poses; noisy: the simulator's detector-noise mode; "
                             "nodrift: the same without pose drift (the masks' errors alone); ideal: clean with "
                             "an ideal depth sensor too (no noise, no holes): a sensor the memory was not tuned on")
    parser.add_argument("--params", type=Path,
                        help="the node's parameters YAML to replay with (as reasmory-replay --params); defaults otherwise")
    parser.add_argument("--noise-set", action="append", default=[], metavar="NAME=VALUE",
                        help="change one detector-noise setting of modes noisy and nodrift (as reasmory-sim "
                             "--noise-set, e.g. bleed=0.4 merge=0.4): noise the memory was not tuned on")
    parser.add_argument("--misses", action="store_true",
                        help="list each object seen in >= 10 frames that the memory misses, and why")
    parser.add_argument("--extras", action="store_true",
                        help="list each memory object that matches no true object, and what it holds")
    parser.add_argument("--record", action="store_true", help="measure the cost of replay --record (MCAP)")
    parser.add_argument("--rerun", action="store_true", help="measure the cost of replay --rerun (Rerun)")
    parser.add_argument("--output-repeats", type=int, default=2, help="replays per variant for --record/--rerun")
    args = parser.parse_args()
    try:
        DetectorNoise.parse_assignments(args.noise_set)
    except ValueError as err:
        parser.error(f"--noise-set: {err}")
    summaries = [run_mode(args, mode) for mode in args.modes]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for summary in summaries:
        print(summary)
    print(f"peak resident memory of this process: {peak_mib:.0f} MiB")


def run_mode(args, mode: str) -> str:
    """Replay and score every seed in one mode; returns the summary over seeds."""
    settings = load_settings(args.params)
    per_type = defaultdict(list)
    overall, objects, update_p50 = [], defaultdict(list), []
    for seed in args.seeds:
        out = recording(args.cache, seed, args.frames, mode, tuple(args.noise_set))
        memory, stats = build_memory(out / "bag", settings, progress=False)
        snapshot = memory.snapshot()
        rows = read_questions(out / "questions.jsonl")
        answers = [answer_record(row["id"], result) for row, result in answer_all(rows, snapshot, progress=False)]
        report = evaluate(answers, rows)
        cold, warm = time_answers(rows, snapshot, args.repeats)
        update = np.asarray(stats.update_ms)
        truth = GroundTruth.load(out / "scene.json")
        metrics = object_metrics(snapshot.objects, truth)
        camera = camera_position_error(snapshot.trajectory, truth)
        bound = pose_bound(snapshot.trajectory, truth)
        print(f"\n## {mode}, seed {seed}: {stats.frames} frames, {len(snapshot.objects)} objects, {len(rows)} questions")
        print(f"replay: {stats.frames / stats.seconds:.1f} frames/s ({stats.realtime_factor:.2f}x real time), "
              f"update p50 {np.percentile(update, 50):.1f} ms p99 {np.percentile(update, 99):.1f} ms")
        print(f"answer latency (rule planner, no LM): cold {cold:.1f} ms, warm p50 "
              f"{np.percentile(warm, 50):.2f} ms p99 {np.percentile(warm, 99):.2f} ms")
        print(report.table())
        print(metrics.table())
        print(camera.line())
        print(bound.line())
        if args.misses:
            print("\n".join(miss.line() for miss in misses(snapshot.objects, truth, trajectory=snapshot.trajectory)) or "no misses")
        if args.extras:
            print("\n".join(extra.line() for extra in extras(snapshot.objects, truth)) or "no extras")
        if args.record or args.rerun:
            print(output_cost(out / "bag", settings, args.record, args.rerun, args.output_repeats))
        for name, value in metrics.to_json().items():
            objects[name].append(value)
        objects["camera_error_median_m"].append(camera.median_m)
        objects["camera_error_max_m"].append(camera.max_m)
        objects["pose_bound_recall"].append(bound.recall)
        update_p50.append(np.percentile(update, 50))
        for qtype, type_score in report.per_type.items():
            per_type[qtype].append(type_score.score)
        overall.append(report.overall)

    changed = f" with {' '.join(args.noise_set)}" if args.noise_set and mode in DETECTOR_NOISE_MODES else ""
    lines = [f"\n## {mode}{changed}: mean over seeds {args.seeds}", f"{'type':<36} {'score':>7}"]
    lines += [f"{qtype:<36} {100 * np.mean(per_type[qtype]):6.1f}%" for qtype in sorted(per_type)]
    lines.append(f"{'overall (mean of types)':<36} {100 * np.mean(overall):6.1f}%  "
                 f"(per seed: {', '.join(f'{100 * o:.1f}' for o in overall)})")
    lines.append(f"update p50 (mean of seeds) {np.mean(update_p50):.2f} ms")
    lines += [f"{name:<36} {np.nanmean(values):.3f}" for name, values in objects.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
