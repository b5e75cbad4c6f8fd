"""The stage interface: each plug-in takes a frame's partial inputs and fills in what is missing.

A stage never overwrites an input the sensor already gave (a depth topic beats estimated depth, a
pose topic beats odometry, published instances beat the detector), so the same pipeline serves a
bare RGB camera, an RGB-D camera without pose and a full simulator stream.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameInputs:
    """What is known about one frame so far; `None` marks what a stage may still fill in.

    Same conventions as `reasmory_ros.memory.frame.Frame`: rgb H x W x 3 uint8, depth H x W
    float32 metres (0 = invalid), K 3 x 3, T_world_camera the 4 x 4 pose of the optical frame in
    the z-up world, instances H x W int32 (0 = none) with labels {id: category}.
    """

    rgb: np.ndarray
    K: np.ndarray
    timestamp: float
    index: int
    depth: np.ndarray | None = None
    T_world_camera: np.ndarray | None = None
    instances: np.ndarray | None = None
    labels: dict[int, str] | None = None


class FrameSkipped(Exception):
    """A stage cannot produce a trustworthy output for this frame; the frame is not integrated.

    Raised instead of returning a guess because a wrong pose or depth would corrupt the memory
    permanently, while a dropped frame costs one frame of coverage.
    """


class PerceptionStage(abc.ABC):
    """One plug-in. `counters` are cumulative event counts a node can log or publish."""

    name: str = "stage"
    needs_depth: bool = True
    """Whether `process` reads depth; the pipeline refuses to call it on a frame without."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def _count(self, event: str) -> None:
        self.counters[event] = self.counters.get(event, 0) + 1

    @abc.abstractmethod
    def process(self, inputs: FrameInputs) -> FrameInputs:
        """Return `inputs` with this stage's output filled in (unchanged when already present).

        Raises FrameSkipped when the frame should not reach the memory.
        """
