"""The planner contract: a question and what the memory holds in, DSL program text out.

Every planner (rules, a local model, a remote endpoint) sees the same `PlanRequest`, so the repair
loop can swap them and feed any of them the validator's messages from earlier attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from reasmory_ros.memory.snapshot import MemorySnapshot


def quoted(text: str, limit: int = 120) -> str:
    """A question as quoted in an error or a log line: neither may echo kilobytes of input."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


class PlanningError(Exception):
    """A planner could not produce a program (model failed, endpoint unreachable...)."""


class NotUnderstood(PlanningError):
    """The question could not be mapped to a program; the message names what was not understood."""


@dataclass(frozen=True)
class PreviousAttempt:
    """A program an earlier attempt wrote and the formatted error it met, for repair prompts."""

    program: str
    error: str


@dataclass(frozen=True)
class PlanningContext:
    """What a planner may know about the memory: labels with counts, frames, optional views."""

    label_counts: dict[str, int]
    frame_count: int
    duration_s: float = 0.0
    views: tuple[np.ndarray, ...] = ()
    previous_attempts: tuple[PreviousAttempt, ...] = ()
    removed_labels: tuple[str, ...] = ()
    """Labels of objects seen gone (not counted above): questions about the past may name them."""

    @property
    def labels(self) -> list[str]:
        return sorted(self.label_counts)

    def summary(self) -> str:
        """A few lines describing the memory, for prompts."""
        objects = ", ".join(f"{label} x{n}" for label, n in sorted(self.label_counts.items())) or "none"
        return (
            f"Objects in memory (label x count): {objects}\n"
            f"Frames seen: {self.frame_count} (numbered 1..{self.frame_count})"
            + (f", {self.duration_s:.1f} s" if self.duration_s > 0 else "")
        )

    def with_attempt(self, program: str, error: str) -> PlanningContext:
        return PlanningContext(
            self.label_counts,
            self.frame_count,
            self.duration_s,
            self.views,
            self.previous_attempts + (PreviousAttempt(program, error),),
            self.removed_labels,
        )


@dataclass(frozen=True)
class PlanRequest:
    """One question to plan: its text, the multiple-choice options if any, and the context."""

    question: str
    options: list[str] | None
    context: PlanningContext


@runtime_checkable
class Planner(Protocol):
    """Writes a DSL program for a request; raises PlanningError (or NotUnderstood) when it cannot."""

    name: str

    def plan(self, request: PlanRequest) -> str: ...


def context_from_snapshot(snapshot: MemorySnapshot, views: Sequence[np.ndarray] = ()) -> PlanningContext:
    """The planning context of a memory snapshot (views: rgb images to show a vision model)."""
    times = snapshot.trajectory.timestamps
    duration = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    return PlanningContext(
        label_counts=dict(snapshot.label_counts()),
        frame_count=snapshot.stream_frames,
        duration_s=duration,
        views=tuple(views),
        removed_labels=tuple(sorted({o.label for o in snapshot.removed})),
    )


@dataclass
class Attempt:
    """One try of the repair loop: which planner, what it wrote, and the error if it failed."""

    planner: str
    program: str
    error: str | None = None
    stage: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class QuestionResult:
    """Everything `answer_question` learnt: the answer in the asked form and how it was reached."""

    question: str
    options: list[str] | None
    ok: bool
    answer: int | float | str | None = None
    unit: str = ""
    text: str = ""
    program: str = ""
    planner: str = ""
    error: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    dsl_answer: object | None = None
    position: list[float] | None = None
    """Place answers: [x, y, z] in metres, the map frame (the object's box centre for "where")."""
    stamp: float | None = None
    """Time answers: the stream clock's stamp (s) of the frame number in `answer`."""
    objects: list[dict] = field(default_factory=list)
    """The objects the answer used: {"id", "label"} each."""
    goal: dict | None = None
    """Place answers: a navigation goal {"position": [x, y, z], "yaw": rad about z}, facing it."""

    def answer_fields(self) -> dict:
        """The replay contract's fields beyond the answer that this result has: position, stamp,
        objects (the navigation goal is the service's and `to_json`'s)."""
        fields = {"position": self.position, "stamp": self.stamp, "objects": self.objects or None}
        return {name: value for name, value in fields.items() if value is not None}

    def to_json(self) -> dict:
        """The replay contract's answer record (without the id) plus the attempts."""
        record: dict = {"answer": self.answer, "program": self.program, "ok": self.ok}
        if self.unit:
            record["unit"] = self.unit
        if self.text:
            record["text"] = self.text
        if self.error:
            record["error"] = self.error
        record.update(self.answer_fields())
        if self.goal is not None:
            record["goal"] = self.goal
        record["attempts"] = [
            {"planner": a.planner, "program": a.program, "error": a.error, "stage": a.stage} for a in self.attempts
        ]
        return record
