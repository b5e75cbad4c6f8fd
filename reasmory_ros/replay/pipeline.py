"""Offline analysis of a recording: bag -> memory -> answers, the core behind `reasmory-replay`."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory import MemorySnapshot, SpatialMemory
from reasmory_ros.memory.frame import Frame
from reasmory_ros.pipeline import Pipeline
from reasmory_ros.planning import QuestionResult, answer_question
from reasmory_ros.planning.factory import build_planner
from reasmory_ros.replay.bag import BagError, open_bag
from reasmory_ros.replay.evaluate import read_jsonl
from reasmory_ros.replay.layouts import Recognition
from reasmory_ros.streams.assembler import FrameAssembler
from reasmory_ros.streams.integrator import FrameIntegrator


class QuestionsFileError(ValueError):
    """A questions file line is not a JSON object with a string `id` and `question`."""


class EmptyBagError(BagError):
    """The bag opened, but no frame could be built from its messages."""


@dataclass
class ReplayStats:
    """What happened while integrating the bag, for the summary and the tests."""

    frames: int = 0
    seconds: float = 0.0
    stream_seconds: float = 0.0
    update_ms: list[float] = field(default_factory=list)
    assembler: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    layout: Recognition | None = None
    """The driver layout recognised in the bag, and the settings it chose."""

    @property
    def realtime_factor(self) -> float:
        return self.stream_seconds / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ReplayStep:
    """The replay right after one frame was integrated, for observers (the recorders)."""

    frame: Frame
    """The frame as the memory took it (depth and pose estimated by perception included)."""
    bag_time: float
    """Recording time (s) of the message that completed the frame."""
    memory: SpatialMemory
    assembler: FrameAssembler
    integrator: FrameIntegrator


def build_memory(bag_path: str | Path, settings: Settings, progress: bool = True,
                 on_frame: Callable[[ReplayStep], None] | None = None) -> tuple[SpatialMemory, ReplayStats]:
    """Feed every frame of the bag to a new memory through the pipeline the node builds from the
    same settings (perception plug-ins included when configured). `on_frame` sees each integrated
    frame."""
    from tqdm import tqdm

    stream = open_bag(bag_path, settings)  # first: a wrong bag fails before models load
    pipeline = Pipeline.build(stream.settings, instance_topics=stream.has_instances, clock=stream.clock,
                              latency_window=None)
    memory, integrator = pipeline.memory, pipeline.integrator
    stats = ReplayStats(warnings=list(stream.warnings))
    if not (stream.has_instances or pipeline.detects_instances):
        stats.warnings.append("the bag has no instance topics: the map and trajectory are built, but no "
                              "objects (configure a perception detector to find them)")
    start = time.perf_counter()
    first_stamp = last_stamp = None
    with tqdm(total=stream.color_messages, unit="frame", desc="replay", disable=not progress,
              leave=False) as bar:
        for frame in stream.frames(pipeline.assembler):
            if integrator.integrate(frame) and on_frame is not None:
                on_frame(ReplayStep(integrator.last_frame, stream.clock.now, memory, pipeline.assembler, integrator))
            first_stamp = frame.timestamp if first_stamp is None else first_stamp
            last_stamp = frame.timestamp
            bar.n = frame.index + 1
            bar.refresh()
    stats.seconds = time.perf_counter() - start
    stats.frames = memory.frame_count
    stats.update_ms = [1e3 * s for s in integrator.latencies_s]
    stats.stream_seconds = 0.0 if first_stamp is None else last_stamp - first_stamp
    stats.assembler = {**pipeline.assembler.stats(), **integrator.counters()}
    if stream.pose_refusals:
        stats.assembler["pose_refusals"] = stream.pose_refusals
    stats.layout = stream.recognition
    if stream.truncated:
        stats.warnings.append(stream.truncated)
    return memory, stats


def read_questions(path: str | Path) -> list[dict]:
    """Rows of a questions JSONL file (`id`, `question`, optional `options`; other keys ignored)."""
    rows = read_jsonl(path)
    for row in rows:
        if not isinstance(row.get("question"), str):
            raise QuestionsFileError(f"{path}: question {row['id']!r} has no 'question' text")
        options = row.get("options")
        if options is not None and not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
            raise QuestionsFileError(f"{path}: question {row['id']!r}: 'options' must be a list of strings")
    return rows


def answer_record(question_id, result: QuestionResult) -> dict:
    """One line of ANSWERS.jsonl in the replay contract (docs/design.md), with the answer fields
    beyond the answer (position, stamp, objects) where the answer has them."""
    record = {"id": question_id, "answer": result.answer, "program": result.program, "ok": result.ok}
    if result.error:
        record["error"] = result.error
    record.update(result.answer_fields())
    return record


def answer_all(rows: Iterable[dict], snapshot: MemorySnapshot, planner=None, max_attempts: int = 3,
               progress: bool = True) -> list[tuple[dict, QuestionResult]]:
    """Answer every question against one snapshot (the memory as it stood at the end of the bag)."""
    from tqdm import tqdm

    rows = list(rows)
    results = []
    for row in tqdm(rows, unit="question", desc="answer", disable=not progress, leave=False):
        result = answer_question(row["question"], row.get("options"), snapshot, planner=planner,
                                 max_attempts=max_attempts)
        results.append((row, result))
    return results


@dataclass
class Replay:
    """One bag analysed: the memory at its end, how integration went, and the answers."""

    memory: SpatialMemory
    stats: ReplayStats
    results: list[tuple[dict, QuestionResult]]

    def answer_records(self) -> list[dict]:
        return [answer_record(row["id"], result) for row, result in self.results]


def replay_bag(bag_path: str | Path, settings: Settings, questions: str | Path | None = None,
               planner_name: str | None = None, progress: bool = True,
               on_frame: Callable[[ReplayStep], None] | None = None) -> Replay:
    """Bag -> memory -> answers: the one path behind `reasmory-replay` and `reasmory-fleet`.

    Cheap checks run first (planner settings, questions file) so a bad input fails before the bag
    is read. Raises BagError (EmptyBagError when no frame could be built), QuestionsFileError or
    ValueError. `on_frame` sees each integrated frame (the --record and --rerun writers).
    """
    planner = build_planner(planner_name or settings.planner.planner, settings.planner,
                            device=settings.compute.device)
    rows = read_questions(questions) if questions else []
    memory, stats = build_memory(bag_path, settings, progress=progress, on_frame=on_frame)
    if stats.frames == 0:
        raise EmptyBagError(f"no frame could be built from {bag_path}; input errors: "
                            f"{stats.assembler.get('errors') or 'none'}, {stats.assembler}")
    results = answer_all(rows, memory.snapshot(), planner, max_attempts=settings.planner.max_attempts,
                         progress=progress)
    return Replay(memory, stats, results)


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    """Write JSONL rows atomically (temp file + rename): a crash never leaves a half file under
    `path`, so a file that exists is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as out:
        try:
            out.writelines(json.dumps(row) + "\n" for row in rows)
            out.flush()
            os.fchmod(out.fileno(), 0o644)  # what open(path, "w") gives, not the temp file's 0600
            os.fsync(out.fileno())
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    os.replace(out.name, path)
