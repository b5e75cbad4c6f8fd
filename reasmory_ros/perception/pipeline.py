"""The perception pipeline: plug-ins in front of the memory, turning partial camera inputs into Frames.

Stage order is fixed by data dependencies: depth (needed by everything else), then pose (odometry
aligns RGB-D), then instances (box-in-depth masks need depth). The live node and the offline replay
call `process` once per synchronised colour image, in stream order.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..memory.frame import Frame, FrameError
from .config import PerceptionConfig, PerceptionConfigError
from .models import resolve_torch_device
from .stage import FrameInputs, FrameSkipped, PerceptionStage

_REQUIRED = {"depth": "depth_model_path", "T_world_camera": "odometry_enabled"}
"""Inputs a Frame cannot do without -> the config field whose plug-in would provide them."""


@dataclass(frozen=True)
class PerceptionResult:
    """Outcome of one frame.

    frame: the Frame for `SpatialMemory.update`, or None when a stage skipped it (then
    `skipped_reason` says why). stage_ms: wall time of each stage on this frame.
    """

    frame: Frame | None
    skipped_reason: str | None
    stage_ms: dict[str, float]


class PerceptionPipeline:
    """Runs the configured stages in order; each fills in only what the sensor did not give."""

    def __init__(self, stages: list[PerceptionStage]):
        self.stages = list(stages)

    @classmethod
    def from_config(cls, config: PerceptionConfig) -> PerceptionPipeline:
        """Build the stages the config asks for, loading their models now (errors name the field)."""
        # Stage modules are imported only when used: transformers alone takes seconds to import.
        device = resolve_torch_device(config.device)
        stages: list[PerceptionStage] = []
        if config.depth_model_path:
            from .depth import DepthStage

            stages.append(DepthStage(config, device))
        if config.odometry_enabled:
            from .odometry import OdometryStage

            stages.append(OdometryStage(config, device))
        if config.detector_model_path:
            from .instances import InstanceStage

            stages.append(InstanceStage(config, device))
        return cls(stages)

    def provides(self, name: str) -> bool:
        """Whether a stage fills in `name`: "depth", "pose" or "instances" (the stage names)."""
        return any(stage.name == name for stage in self.stages)

    @property
    def counters(self) -> dict[str, dict[str, int]]:
        """Cumulative event counts per stage (detector runs, odometry failures, ...) for logs."""
        return {stage.name: dict(stage.counters) for stage in self.stages}

    def process(
        self,
        rgb: np.ndarray,
        K: np.ndarray,
        timestamp: float,
        index: int,
        depth: np.ndarray | None = None,
        T_world_camera: np.ndarray | None = None,
        instances: np.ndarray | None = None,
        labels: dict[int, str] | None = None,
    ) -> PerceptionResult:
        """Complete one frame's inputs and validate them into a Frame.

        rgb H x W x 3 uint8; depth H x W float metres (NaN / <= 0 invalid) or None; K 3 x 3;
        T_world_camera 4 x 4 optical-frame pose or None; instances/labels as on the instance topics
        or None. Raises PerceptionConfigError when an input is missing and no plug-in provides it,
        FrameError when an input is malformed.
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise FrameError("rgb", f"expected H x W x 3 uint8, got {rgb.dtype} {rgb.shape}")
        if depth is not None:
            depth = np.asarray(depth, dtype=np.float32)
            depth = np.where(np.isfinite(depth) & (depth > 0), depth, np.float32(0.0))
        inputs = FrameInputs(
            rgb=rgb, K=np.asarray(K, dtype=np.float64), timestamp=timestamp, index=index, depth=depth,
            T_world_camera=T_world_camera, instances=instances, labels=labels,
        )
        stage_ms: dict[str, float] = {}
        for stage in self.stages:
            if stage.needs_depth:
                self._require(inputs, "depth")
            start = time.perf_counter()
            try:
                inputs = stage.process(inputs)
            except FrameSkipped as skipped:
                stage_ms[stage.name] = 1e3 * (time.perf_counter() - start)
                return PerceptionResult(None, str(skipped), stage_ms)
            stage_ms[stage.name] = 1e3 * (time.perf_counter() - start)
        for name in _REQUIRED:
            self._require(inputs, name)
        frame = Frame.create(**{f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs)})
        return PerceptionResult(frame, None, stage_ms)

    @staticmethod
    def _require(inputs: FrameInputs, name: str) -> None:
        if getattr(inputs, name) is None:
            raise PerceptionConfigError(
                _REQUIRED[name], f"frame {inputs.index} has no {name} and no perception plug-in provides it"
            )
