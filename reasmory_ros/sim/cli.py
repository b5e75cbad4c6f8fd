"""`reasmory-sim`: write a simulated recording: rosbag2, ground truth and questions.

    reasmory-sim OUT_DIR --seed 0 --frames 300 [--storage sqlite3|mcap] [--width 640 --height 480]
                 [--noise [--noise-set NAME=VALUE ...]] [--change-loops 2]

OUT_DIR/bag is the rosbag2 directory (the input-topic contract of docs/design.md), OUT_DIR/scene.json the
ground truth (objects, room, camera poses, per-frame visibility) and OUT_DIR/questions.jsonl the
questions with their ground-truth answers, ready for `reasmory-replay` and `reasmory-eval`.
--noise makes the instances, labels and poses those of a real detector and odometry (misses,
synonyms, confusions, bleeding/eroded masks, splits, merges, false positives, pose drift; see
`reasmory_ros.sim.noise.DetectorNoise`), in the same topic contract.
With --change-loops N the camera walks N loops and objects are moved, removed and added between
them (sim/changes.py); scene.json then holds the change history and the questions are about the
room as the recording leaves it.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .bag import COLOR_ENCODINGS, DEPTH_ENCODINGS, BagWriteError, write_scene_bag
from .changes import plan_changes
from .drivers import NAMESPACES, write_layout_bag
from .ground_truth import GroundTruth
from .layout import generate_scene
from .noise import DetectorNoise
from .questions import QUESTION_TYPES, Question, generate_questions, write_questions
from .render import DEFAULT_HEIGHT, DEFAULT_WIDTH
from .trajectory import DEFAULT_FPS


@dataclass(frozen=True)
class SimOutputs:
    bag: Path
    scene_json: Path
    questions_jsonl: Path
    questions: list[Question]


def simulate(
    out_dir: str | Path,
    seed: int = 0,
    frames: int = 300,
    *,
    storage: str = "sqlite3",
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    fps: float = DEFAULT_FPS,
    questions_per_type: int = 5,
    noise: bool = True,
    force: bool = False,
    progress: bool = False,
    color_encoding: str = "rgb8",
    depth_encoding: str = "16UC1",
    instances: bool = True,
    layout: str = "contract",
    detector_noise: DetectorNoise | None = None,
    change_loops: int = 0,
) -> SimOutputs:
    """Generate scene `seed`, render `frames` frames into OUT_DIR/bag and write the ground truth
    and questions next to it. `force` replaces outputs of an earlier run. `layout`: the contract's
    topics, or a camera driver's (sim/layouts.py: tf poses, jpeg colour; encodings then ignored).
    `detector_noise` (e.g. `DetectorNoise()`, contract layout only) writes what a real detector
    and odometry would publish. change_loops >= 2: change mode (contract layout only), `frames`
    frames per loop."""
    if detector_noise is not None and layout != "contract":
        raise BagWriteError("detector noise is written in the contract layout only")
    out = Path(out_dir)
    outputs = SimOutputs(out / "bag", out / "scene.json", out / "questions.jsonl", [])
    if outputs.bag.exists():
        if not force:
            raise BagWriteError(f"{outputs.bag} already exists (use --force to replace it)")
        shutil.rmtree(outputs.bag)
    out.mkdir(parents=True, exist_ok=True)
    scene = generate_scene(seed)
    changes = None
    if change_loops:
        if layout != "contract":
            raise BagWriteError("change mode (--change-loops) writes the contract layout only")
        changes = dataclasses.replace(plan_changes(scene, seed, loops=change_loops), frames_per_loop=frames)
    if layout == "contract":
        gt = write_scene_bag(scene, outputs.bag, frames, seed=seed, width=width, height=height, fps=fps,
                             storage=storage, noise=noise, progress=progress, color_encoding=color_encoding,
                             depth_encoding=depth_encoding, instances=instances, detector_noise=detector_noise,
                             changes=changes)
    else:
        gt = write_layout_bag(scene, outputs.bag, frames, layout, seed=seed, width=width, height=height, fps=fps,
                              storage=storage, noise=noise, instances=instances)
    gt.save(outputs.scene_json)
    final = dataclasses.replace(gt, scene=gt.final_scene)
    questions = generate_questions(final, per_type=questions_per_type, seed=seed)
    write_questions(questions, outputs.questions_jsonl)
    return SimOutputs(outputs.bag, outputs.scene_json, outputs.questions_jsonl, questions)


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reasmory-sim",
        description="Render a procedural furnished room along a handheld camera loop into a rosbag2 "
                    "(color, depth, camera_info, pose, instances, labels) and write its ground truth "
                    "(scene.json) and spatial questions with answers (questions.jsonl).",
        epilog="Example: reasmory-sim /tmp/sim0 --seed 0 --frames 300 && "
               "reasmory-replay /tmp/sim0/bag --questions /tmp/sim0/questions.jsonl --output answers.jsonl && "
               "reasmory-eval answers.jsonl /tmp/sim0/questions.jsonl",
    )
    parser.add_argument("out_dir", type=Path, help="output folder; gets bag/, scene.json and questions.jsonl")
    parser.add_argument("--seed", type=int, default=0,
                        help="scene seed: same seed, same room and recording (default 0)")
    parser.add_argument("--frames", type=_positive(int), default=300, help="frames to render (default 300)")
    parser.add_argument("--storage", choices=("sqlite3", "mcap"), default="sqlite3", help="rosbag2 storage plugin")
    parser.add_argument("--width", type=_positive(int), default=DEFAULT_WIDTH, help="image width in pixels (640)")
    parser.add_argument("--height", type=_positive(int), default=DEFAULT_HEIGHT, help="image height in pixels (480)")
    parser.add_argument("--fps", type=_positive(float), default=DEFAULT_FPS,
                        help=f"frame rate of the timestamps in Hz (default {DEFAULT_FPS:g})")
    parser.add_argument("--questions-per-type", type=_positive(int), default=5,
                        help=f"questions per type, of {len(QUESTION_TYPES)} types (default 5; room size: 1)")
    parser.add_argument("--no-noise", action="store_true", help="ideal sensor: exact depth, no holes, clean colour")
    parser.add_argument("--color-encoding", choices=COLOR_ENCODINGS, default="rgb8", help="colour image encoding")
    parser.add_argument("--depth-encoding", choices=DEPTH_ENCODINGS, default="16UC1",
                        help="depth image encoding: 16UC1 millimetres (0 = invalid) or 32FC1 metres (NaN = invalid)")
    parser.add_argument("--no-instances", action="store_true",
                        help="leave out the instance image and labels topics (they are optional in the contract)")
    parser.add_argument("--layout", choices=("contract", *NAMESPACES), default="contract",
                        help="topic layout: the contract's, or a camera driver's as recorded on a robot (poses "
                             "only in /tf + /tf_static, jpeg colour, depth stamped apart; encodings ignored)")
    parser.add_argument("--noise", action="store_true",
                        help="detector and odometry noise: misses (more for small/far objects), synonyms, "
                             "look-alike confusions, bleeding and eroded masks, splits, merges of touching "
                             "objects, false positives on walls/floor, pose drift per metre travelled "
                             "(contract layout only)")
    parser.add_argument("--noise-set", action="append", default=[], metavar="NAME=VALUE",
                        help="change one noise setting, e.g. miss=0.1, bleed_px=2,6, drift_yaw=0 "
                             "(implies --noise; names: " + ", ".join(DetectorNoise().to_dict()) + ")")
    parser.add_argument("--change-loops", type=int, default=0, metavar="N",
                        help="change mode: walk N >= 2 loops of --frames frames each; before the second, two "
                             "objects are moved, one removed and a tall one added in front of another "
                             "(history in scene.json; default 0: the room never changes)")
    parser.add_argument("--force", action="store_true", help="replace the outputs of an earlier run")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    args = parser.parse_args(argv)
    detector_noise = None
    if args.noise or args.noise_set:
        try:
            detector_noise = DetectorNoise.parse_assignments(args.noise_set)
        except ValueError as err:
            parser.error(f"--noise-set: {err}")
    try:
        result = simulate(
            args.out_dir, args.seed, args.frames, storage=args.storage, width=args.width, height=args.height,
            fps=args.fps, questions_per_type=args.questions_per_type, noise=not args.no_noise, force=args.force,
            progress=not args.quiet, color_encoding=args.color_encoding, depth_encoding=args.depth_encoding,
            instances=not args.no_instances, layout=args.layout, detector_noise=detector_noise,
            change_loops=args.change_loops,
        )
    except (BagWriteError, OSError, ValueError) as err:
        print(f"reasmory-sim: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        per_type = Counter(q.type for q in result.questions)
        print(f"bag:       {result.bag}")
        print(f"truth:     {result.scene_json}")
        print(f"questions: {result.questions_jsonl} ({len(result.questions)}: "
              + ", ".join(f"{t} {per_type[t]}" for t in QUESTION_TYPES) + ")")
        if args.change_loops:
            changes = GroundTruth.load(result.scene_json).changes
            print("changes:   " + ", ".join(f"{c.object.label} {c.object.id} {c.kind}" for c in changes.changes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
