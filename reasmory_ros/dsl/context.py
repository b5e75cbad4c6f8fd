"""What an operation sees while running: the snapshot, shared derived data, and the trace.

The trace collects what the program touched (objects, cameras, views, measured segments,
direction arrows, routes) so the answer can be shown in RViz next to the number it produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..memory.snapshot import MemorySnapshot
from .cache import derived
from .floorplan import FloorGrid, build_floor_grid
from .navigation import NavGrid, build_nav_grid
from .types import Camera, Direction, Obj, ObjectSet, Path, Place, Point, View


@dataclass(frozen=True)
class CameraMark:
    """A camera the program used: 1-based frame number and optical-frame pose."""

    frame: int
    pose: np.ndarray


@dataclass(frozen=True)
class ViewMark:
    """A standpoint with its horizontal facing (rad, counter-clockwise from world x)."""

    position: np.ndarray
    heading: float


@dataclass(frozen=True)
class Segment:
    """A measured or pointed-at pair of world points (distance segment or direction arrow)."""

    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class Touched:
    """Everything an answer refers to, in the world frame, for markers."""

    object_ids: tuple[int, ...] = ()
    cameras: tuple[CameraMark, ...] = ()
    views: tuple[ViewMark, ...] = ()
    segments: tuple[Segment, ...] = ()
    directions: tuple[Segment, ...] = ()
    paths: tuple[np.ndarray, ...] = ()
    points: tuple[np.ndarray, ...] = ()
    positions: tuple[np.ndarray, ...] = ()
    """Places answered (an object's box centre for "where is X"): shown as an arrow down onto it."""
    goals: tuple[ViewMark, ...] = ()
    """Navigation goals: a standpoint on the floor facing what to reach."""


@dataclass
class Trace:
    """Mutable collector behind `Touched`; object ids and cameras are kept once each."""

    object_ids: list[int] = field(default_factory=list)
    cameras: dict[int, CameraMark] = field(default_factory=dict)
    views: list[ViewMark] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    directions: list[Segment] = field(default_factory=list)
    paths: list[np.ndarray] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    goals: list[ViewMark] = field(default_factory=list)

    def value(self, value: object) -> None:
        """Record a value by its kind (used for arguments worth showing and for the answer)."""
        if isinstance(value, Obj) and value.id not in self.object_ids:
            self.object_ids.append(value.id)
        elif isinstance(value, ObjectSet):
            for obj in value.objects:
                self.value(obj)
        elif isinstance(value, Camera):
            self.cameras.setdefault(value.frame_index, CameraMark(value.frame_index + 1,
                                                                  value.pose))
        elif isinstance(value, View):
            self.views.append(ViewMark(value.position, value.heading))
        elif isinstance(value, Point):
            self.points.append(value.xyz)
        elif isinstance(value, Direction):
            self.directions.append(Segment(value.origin, value.target))
        elif isinstance(value, Path):
            self.paths.append(value.waypoints)
        elif isinstance(value, Place):
            self.value(value.object)
            if not any(p is value.position for p in self.positions):  # the answer is traced again
                self.positions.append(value.position)
                if value.goal is not None:
                    self.goal(value.goal)
        elif isinstance(value, tuple):
            for item in value:
                self.value(item)

    def goal(self, view: View) -> None:
        self.goals.append(ViewMark(view.position, view.heading))

    def segment(self, start: np.ndarray, end: np.ndarray) -> None:
        self.segments.append(Segment(np.asarray(start, float), np.asarray(end, float)))

    def freeze(self) -> Touched:
        return Touched(tuple(self.object_ids), tuple(self.cameras.values()), tuple(self.views),
                       tuple(self.segments), tuple(self.directions), tuple(self.paths),
                       tuple(self.points), tuple(self.positions), tuple(self.goals))


@dataclass
class ExecContext:
    """Passed to every operation implementation as its first argument."""

    snapshot: MemorySnapshot
    trace: Trace = field(default_factory=Trace)
    notes: list[str] = field(default_factory=list)

    def floor_grid(self) -> FloorGrid:
        return derived(self.snapshot, "floor_grid", lambda: build_floor_grid(self.snapshot.scene_map))

    def nav_grid(self) -> NavGrid:
        return derived(self.snapshot, "nav_grid", lambda: build_nav_grid(self.floor_grid()))
