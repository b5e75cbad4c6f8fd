"""Offline analysis of a recording: bag -> memory -> answers, the core behind `reasmory-replay`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reasmory_ros.memory import MemorySnapshot, SpatialMemory
from reasmory_ros.planning import QuestionResult, answer_question
from reasmory_ros.replay.bag import open_bag
from reasmory_ros.replay.evaluate import read_jsonl
from reasmory_ros.perception import PerceptionPipeline
from reasmory_ros.ros.parameters import apply_torch_threads, memory_config, perception_config
from reasmory_ros.streams.integrator import FrameIntegrator


class QuestionsFileError(ValueError):
    """A questions file line is not a JSON object with a string `id` and `question`."""


@dataclass
class ReplayStats:
    """What happened while integrating the bag, for the summary and the tests."""

    frames: int = 0
    seconds: float = 0.0
    stream_seconds: float = 0.0
    update_ms: list[float] = field(default_factory=list)
    assembler: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        return self.stream_seconds / self.seconds if self.seconds > 0 else 0.0


def build_memory(bag_path: str | Path, params: dict, progress: bool = True) -> tuple[SpatialMemory, ReplayStats]:
    """Feed every frame of the bag to a new memory configured by the node's parameters, through
    the node's perception plug-ins when they are configured."""
    from tqdm import tqdm

    apply_torch_threads(params)
    memory = SpatialMemory(memory_config(params), device=params["device"])
    config = perception_config(params, str(memory.device))
    perception = None if config is None else PerceptionPipeline.from_config(config)
    stream = open_bag(bag_path, params, detector=perception is not None and perception.provides("instances"))
    integrator = FrameIntegrator(memory, stream.assembler.report, perception, latency_window=None)
    stats = ReplayStats(warnings=list(stream.warnings))
    start = time.perf_counter()
    first_stamp = last_stamp = None
    with tqdm(total=stream.color_messages, unit="frame", desc="replay", disable=not progress,
              leave=False) as bar:
        for frame in stream.frames():
            integrator.integrate(frame)
            first_stamp = frame.timestamp if first_stamp is None else first_stamp
            last_stamp = frame.timestamp
            bar.n = frame.index + 1
            bar.refresh()
    stats.seconds = time.perf_counter() - start
    stats.frames = memory.frame_count
    stats.update_ms = [1e3 * s for s in integrator.latencies_s]
    stats.stream_seconds = 0.0 if first_stamp is None else last_stamp - first_stamp
    stats.assembler = {**stream.assembler.stats(), **integrator.counters()}
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
    """One line of ANSWERS.jsonl in the replay contract (DESIGN.md §3)."""
    record = {"id": question_id, "answer": result.answer, "program": result.program, "ok": result.ok}
    if result.error:
        record["error"] = result.error
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
