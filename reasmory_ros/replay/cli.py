"""`reasmory-replay BAG_DIR --questions Q.jsonl --output A.jsonl [--params FILE.yaml]`.

Reads a rosbag2 recording with `rosbags` (no ROS middleware), builds the memory exactly as the
node would with the same parameters file, answers every question and writes the answers in the
contract of docs/design.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reasmory_ros.config import PLANNER_KINDS
from reasmory_ros.config.settings import Settings, load_settings
from reasmory_ros.memory import MemoryFileError
from reasmory_ros.replay.bag import BagError
from reasmory_ros.replay.pipeline import QuestionsFileError, ReplayStats, replay_bag, write_jsonl
from reasmory_ros.replay.record import McapRecorder, RecordError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-replay",
        description="Build the spatial memory from a rosbag2 recording and answer questions about it, "
                    "offline (no ROS middleware needed).",
        epilog="QUESTIONS.jsonl rows: {\"id\": str, \"question\": str, \"options\": [str, ...]} (options "
               "for multiple choice). ANSWERS.jsonl rows: {\"id\", \"answer\", \"program\", \"ok\", "
               "\"error\"?}. Frame numbers in questions count colour images from 1 in bag order.\n"
               "Example: reasmory-replay demo/bag --questions demo/questions.jsonl --output answers.jsonl "
               "--plot topdown.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bag", type=Path, help="rosbag2 directory (sqlite3 or mcap)")
    parser.add_argument("--questions", type=Path, help="questions JSONL file")
    parser.add_argument("--output", type=Path, help="answers JSONL file to write (needs --questions)")
    parser.add_argument("--params", type=Path,
                        help="the node's parameters YAML (topics, memory, planner); defaults otherwise")
    parser.add_argument("--planner", choices=PLANNER_KINDS, help="override the parameters' planner")
    parser.add_argument("--device", help="override the parameters' device (auto, cpu, cuda)")
    parser.add_argument("--save-memory", type=Path, metavar="FILE.npz",
                        help="save the memory at the end of the bag (for reasmory-ask-offline)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="write a top-down picture of the memory")
    parser.add_argument("--inspect", action="store_true",
                        help="print every topic with its type, rate and use, the layout recognised, the tf tree "
                             "and what is missing (with the parameter that supplies it), then exit; no processing")
    parser.add_argument("--record", type=Path, metavar="OUT.mcap",
                        help="write the node's output topics (markers, map, path, status, answers) over the "
                             "bag's time as an MCAP for Foxglove, RViz (ros2 bag play) and rosbags")
    parser.add_argument("--record-inputs", action="store_true",
                        help="also copy every topic of the input bag into the --record MCAP")
    parser.add_argument("--rerun", type=Path, metavar="OUT.rrd",
                        help="write a Rerun recording (camera, map, boxes, trajectory, answers over time); "
                             "needs the optional rerun-sdk")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def _summary(stats: ReplayStats, memory, results) -> str:
    snapshot = memory.snapshot()
    labels = snapshot.label_counts()
    update = np.asarray(stats.update_ms) if stats.update_ms else np.zeros(1)
    lines = [
        f"frames integrated: {stats.frames} in {stats.seconds:.1f} s "
        f"({stats.frames / max(stats.seconds, 1e-9):.1f} frames/s, {stats.realtime_factor:.1f}x real time); "
        f"update p50 {np.percentile(update, 50):.1f} ms, p99 {np.percentile(update, 99):.1f} ms",
        f"objects: {len(snapshot.objects)} ({', '.join(f'{n} {label}' for label, n in sorted(labels.items())) or 'none'})",
    ]
    layout = stats.layout
    if layout is not None and layout.changes:
        chosen = ", ".join(f"{name}={value}" for name, value in layout.changes.items())
        lines.append(f"layout: {layout.layout}" + (f" (namespace {layout.namespace})" if layout.namespace else "")
                     + f"; chosen from the bag: {chosen}")
        lines += [f"  {note}" for note in layout.notes]
    if stats.assembler.get("pose_refusals"):
        lines.append(f"images without a tf pose (dropped), by reason: {stats.assembler['pose_refusals']}")
    dropped = {k: v for k, v in stats.assembler.items() if k.startswith("dropped") and v}
    if dropped or stats.assembler.get("errors"):
        lines.append(f"dropped: {dropped or 'none'}; input errors: {stats.assembler.get('errors') or 'none'}")
    lines += [f"warning: {w}" for w in stats.warnings]
    if results:
        ok = sum(result.ok for _, result in results)
        lines.append(f"questions answered: {ok}/{len(results)}")
        for row, result in results:
            if not result.ok:
                lines.append(f"  {row['id']}: {result.error}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.output and not args.questions:
        print("reasmory-replay: --output needs --questions", file=sys.stderr)
        return 2
    if args.record_inputs and not args.record:
        print("reasmory-replay: --record-inputs needs --record", file=sys.stderr)
        return 2
    recorders = []
    try:
        settings = load_settings(args.params)
        if args.device:
            settings = settings.updated({"device": args.device})
        if args.inspect:
            from reasmory_ros.replay.inspect import inspect_bag

            print(inspect_bag(args.bag, settings))
            return 0
        recorders = _recorders(args, settings)  # output paths are checked before any replay work
        replay = replay_bag(args.bag, settings, args.questions, planner_name=args.planner,
                            progress=not args.no_progress, on_frame=_each(recorder.step for recorder in recorders))
    except (BagError, QuestionsFileError, RecordError, OSError, ValueError) as err:  # SettingsError: ValueError
        for recorder in recorders:
            recorder.discard()
        print(f"reasmory-replay: {err}", file=sys.stderr)
        return 1
    memory, stats, results = replay.memory, replay.stats, replay.results
    snapshot = memory.snapshot()
    if args.output:
        write_jsonl(args.output, replay.answer_records())
    code = _finish_recordings(recorders, args, results)
    try:
        if args.save_memory:
            memory.save(args.save_memory)
    except MemoryFileError as err:
        print(f"reasmory-replay: {err}", file=sys.stderr)
        return 1
    if args.plot:
        from reasmory_ros.replay.topdown import plot_topdown

        plot_topdown(snapshot, args.plot, title=f"{args.bag.name}: {len(snapshot.objects)} objects")
    print(_summary(stats, memory, results))
    return code


def _recorders(args, settings: Settings) -> list:
    """The --record and --rerun writers, opened now so a bad output path fails before the replay."""
    recorders = []
    try:
        if args.record:
            recorders.append(McapRecorder(args.record, settings.node))
        if args.rerun:
            from reasmory_ros.replay.rerun_log import RerunRecorder

            recorders.append(RerunRecorder(args.rerun, settings.node))
    except RecordError:
        for recorder in recorders:
            recorder.discard()
        raise
    return recorders


def _each(callbacks):
    callbacks = list(callbacks)
    if not callbacks:
        return None
    return lambda step: [callback(step) for callback in callbacks]


def _finish_recordings(recorders, args, results) -> int:
    """Write the answers into the recordings and close them; a recording that failed is reported
    (exit status 1) after the answers were written."""
    code = 0
    for recorder in recorders:
        if args.record_inputs and isinstance(recorder, McapRecorder):
            recorder.copy_inputs(args.bag)
        recorder.finish(results)
        for warning in recorder.warnings:
            print(f"reasmory-replay: warning: {warning}", file=sys.stderr)
        if recorder.error:
            print(f"reasmory-replay: {recorder.error}", file=sys.stderr)
            code = 1
        else:
            print(f"recorded {recorder.path}: " + ", ".join(f"{n} {name}" for name, n in recorder.counts.items()))
    return code


if __name__ == "__main__":
    sys.exit(main())
