"""Score answers against ground truth the way VSI-Bench does.

Numeric questions: mean relative accuracy, MRA = mean over theta in {0.50, 0.55, ..., 0.95} of
1[|pred - truth| / |truth| < 1 - theta]. Multiple choice: exact match of the option text or its
letter (A, B, ...), case-insensitive and whitespace-trimmed. A missing answer, an answer with
ok = false, or one that cannot be read as a number / an option scores 0. The overall score is the
mean of the per-type means, so frequent types do not dominate.

    reasmory-eval ANSWERS.jsonl GT.jsonl [--json]
    reasmory-eval [ANSWERS.jsonl GT.jsonl] --memory MEMORY.npz --scene scene.json [--json]

With --memory and --scene it also scores the memory's objects against the simulator's ground
truth (instance precision/recall, duplicates, labels, box errors: see object_metrics.py) and the
poses it was built with against the true camera path (position error, median and max, and the
pose bound: the recall that a memory exact up to those poses would reach).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

MRA_TOLERANCES = tuple(k / 20 for k in range(10, 0, -1))
"""1 - theta for theta = 0.50, 0.55, ..., 0.95 (written as k/20 so no float drift moves a bound)."""

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_LETTER = re.compile(r"^\(?([a-z])\s*[.):]?\s*(.*)$")


class EvaluationError(ValueError):
    """An input file or row is malformed; the message names the file and line."""


def mean_relative_accuracy(prediction: float, truth: float) -> float:
    """VSI-Bench MRA of one numeric answer; a zero truth needs an exact answer."""
    if not math.isfinite(prediction):
        return 0.0
    if truth == 0:
        return float(prediction == 0)
    relative_error = abs(prediction - truth) / abs(truth)
    return sum(relative_error < tol for tol in MRA_TOLERANCES) / len(MRA_TOLERANCES)


def parse_number(answer: object) -> float | None:
    """A numeric answer: a number, or the first number in a string ("3.2 m" -> 3.2)."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        return float(answer)
    if isinstance(answer, str):
        match = _NUMBER.search(answer)
        return float(match.group()) if match else None
    return None


def _norm(text: object) -> str:
    return " ".join(str(text).strip().lower().split())


def chosen_option(answer: object, options: Sequence[str]) -> str | None:
    """The option an answer picks: its text, its letter ("B", "(b)", "B."), or "B. text" when the
    text agrees with the letter; None when it picks none."""
    if answer is None or isinstance(answer, bool):
        return None
    given = _norm(answer)
    by_text = {_norm(o): o for o in options}
    if given in by_text:
        return by_text[given]
    match = _LETTER.match(given)
    if match:
        index = ord(match.group(1)) - ord("a")
        rest = match.group(2)
        if 0 <= index < len(options) and (not rest or _norm(options[index]) == rest):
            return options[index]
    return None


def score_answer(row: Mapping, answer: Mapping | None) -> float:
    """Score of one ground-truth row given the answer row for its id (None when missing)."""
    if answer is None or answer.get("ok", True) is False or "answer" not in answer:
        return 0.0
    options = row.get("options")
    if options:
        picked = chosen_option(answer["answer"], options)
        return float(picked is not None and _norm(picked) == _norm(row["answer"]))
    prediction = parse_number(answer["answer"])
    truth = parse_number(row["answer"])
    if truth is None:
        raise EvaluationError(f"ground truth of {row.get('id')!r} is neither an option nor a number")
    return 0.0 if prediction is None else mean_relative_accuracy(prediction, truth)


@dataclass
class TypeScore:
    """Mean score of one question type; `answered` counts answers present with ok != false."""

    type: str
    count: int = 0
    answered: int = 0
    score: float = 0.0


@dataclass
class Report:
    per_type: dict[str, TypeScore]
    overall: float
    questions: int
    answered: int
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "overall": self.overall,
            "questions": self.questions,
            "answered": self.answered,
            "per_type": {k: asdict(v) for k, v in self.per_type.items()},
            "missing": self.missing,
            "unknown": self.unknown,
            "scores": self.scores,
        }

    def table(self) -> str:
        width = max([len("type"), len("overall (mean of types)")] + [len(t) for t in self.per_type])
        lines = [f"{'type':<{width}}  {'n':>5}  {'answered':>8}  {'score':>7}", "-" * (width + 26)]
        for t in self.per_type.values():
            lines.append(f"{t.type:<{width}}  {t.count:>5}  {t.answered:>8}  {100 * t.score:>6.1f}%")
        lines.append("-" * (width + 26))
        lines.append(f"{'overall (mean of types)':<{width}}  {self.questions:>5}  {self.answered:>8}  "
                     f"{100 * self.overall:>6.1f}%")
        if self.missing:
            lines.append(f"{len(self.missing)} question(s) without an answer (scored 0)")
        if self.unknown:
            lines.append(f"{len(self.unknown)} answer(s) for ids not in the ground truth (ignored)")
        return "\n".join(lines)


def _question_type(row: Mapping) -> str:
    return str(row.get("type") or ("multiple_choice" if row.get("options") else "numeric"))


def evaluate(answers: Iterable[Mapping] | Mapping[str, Mapping], ground_truth: Iterable[Mapping]) -> Report:
    """Score answer rows ({"id", "answer", "ok"?}) against ground-truth rows ({"id", "type"?,
    "answer", "options"?}); a later answer for the same id replaces an earlier one."""
    by_id = dict(answers) if isinstance(answers, Mapping) else {str(a["id"]): a for a in answers}
    per_type: dict[str, TypeScore] = {}
    scores: dict[str, float] = {}
    missing = []
    for row in ground_truth:
        qid = str(row["id"])
        answer = by_id.get(qid)
        if answer is None:
            missing.append(qid)
        entry = per_type.setdefault(_question_type(row), TypeScore(_question_type(row)))
        entry.count += 1
        entry.answered += int(answer is not None and answer.get("ok", True) is not False)
        scores[qid] = score_answer(row, answer)
        entry.score += scores[qid]
    for entry in per_type.values():
        entry.score /= entry.count
    overall = sum(e.score for e in per_type.values()) / len(per_type) if per_type else 0.0
    return Report(
        per_type=dict(sorted(per_type.items())),
        overall=overall,
        questions=len(scores),
        answered=sum(e.answered for e in per_type.values()),
        missing=missing,
        unknown=sorted(set(by_id) - set(scores)),
        scores=scores,
    )


def read_jsonl(path: str | Path) -> list[dict]:
    """Rows of a JSONL file; EvaluationError names the file and line of a bad row."""
    rows = []
    try:
        with Path(path).open() as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise EvaluationError(f"{path}:{number}: not JSON ({err.msg})") from err
                if not isinstance(row, dict) or "id" not in row:
                    raise EvaluationError(f"{path}:{number}: expected an object with an 'id'")
                rows.append(row)
    except OSError as err:
        raise EvaluationError(f"cannot read {path}: {err.strerror}") from err
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reasmory-eval",
        description="Score spatial-question answers VSI-Bench style: mean relative accuracy (MRA) for "
                    "numbers, exact match (option text or letter) for multiple choice; per-type table "
                    "and the mean over types.",
    )
    parser.add_argument("answers", nargs="?",
                        help="ANSWERS.jsonl: {\"id\", \"answer\", \"ok\"?} per line (reasmory-replay output)")
    parser.add_argument("ground_truth", nargs="?",
                        help="GT.jsonl: {\"id\", \"type\", \"answer\", \"options\"?} per line "
                             "(e.g. questions.jsonl written by reasmory-sim)")
    parser.add_argument("--memory", type=Path, metavar="MEMORY.npz",
                        help="a memory saved by reasmory-replay --save-memory: score its objects and "
                             "camera poses (needs --scene)")
    parser.add_argument("--scene", type=Path, metavar="scene.json",
                        help="the simulator's ground truth (reasmory-sim writes it next to the bag)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    if (args.answers is None) != (args.ground_truth is None):
        parser.error("give both ANSWERS.jsonl and GT.jsonl, or neither")
    if (args.memory is None) != (args.scene is None):
        parser.error("--memory and --scene go together")
    if args.answers is None and args.memory is None:
        parser.error("nothing to score: give ANSWERS.jsonl GT.jsonl and/or --memory and --scene")
    output: dict = {}
    try:
        if args.answers is not None:
            report = evaluate(read_jsonl(args.answers), read_jsonl(args.ground_truth))
            output["questions"] = report.to_json() if args.json else report.table()
        if args.memory is not None:
            metrics, camera, bound = _object_metrics(args.memory, args.scene)
            output["objects"] = metrics.to_json() if args.json else metrics.table()
            output["camera"] = camera.to_json() if args.json else camera.line()
            output["pose_bound"] = bound.to_json() if args.json else bound.line()
    except EvaluationError as err:
        print(f"reasmory-eval: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(output["questions"] if list(output) == ["questions"] else output, indent=2))
    else:
        print("\n\n".join(output.values()))
    return 0


def _object_metrics(memory_path: Path, scene_path: Path):
    """Object metrics, camera position error and pose bound of a saved memory against a
    ground-truth file (torch loads lazily: answer scoring alone needs none of it)."""
    from reasmory_ros.memory.errors import MemoryFileError
    from reasmory_ros.memory.spatial_memory import SpatialMemory
    from reasmory_ros.replay.object_metrics import camera_position_error, object_metrics, pose_bound
    from reasmory_ros.sim.ground_truth import GroundTruth

    try:
        truth = GroundTruth.load(scene_path)
    except (OSError, ValueError, KeyError) as err:
        raise EvaluationError(f"cannot read ground truth {scene_path}: {err}") from err
    try:
        memory = SpatialMemory.from_file(memory_path)
    except MemoryFileError as err:
        raise EvaluationError(str(err)) from err
    snapshot = memory.snapshot()
    return (object_metrics(snapshot.objects, truth), camera_position_error(snapshot.trajectory, truth),
            pose_bound(snapshot.trajectory, truth))


if __name__ == "__main__":
    sys.exit(main())
